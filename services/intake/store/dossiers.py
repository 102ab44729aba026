"""The desk's queries (one dossier, its history, the tracking book, supplement requests) and the statements
of following a consumer batch (one SELECT … FOR UPDATE, one UPDATE, one SELECT of the chains' last links and one
INSERT per batch, via libs.db.bulk). History rows are appended to their dossier's hash chain (store/chain.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlmodel import col
from sqlmodel import select as orm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.db.bulk import member_of, update_rows
from services.intake.domain.desk import DeskDossier
from services.intake.store import chain
from services.intake.store.rows import DESK_FIELDS, desk_of, mutable_values
from services.intake.store.tables import DOSSIERS, DossierHistoryRow, DossierRow, PaperRequestRow


# --- the desk's unit of work (ORM rows) ---------------------------------------------------------------------
async def by_code(session: AsyncSession, code: str, *, for_update: bool = False) -> DossierRow | None:
    query = orm_select(DossierRow).where(DossierRow.code == code)
    return (await session.exec(query.with_for_update() if for_update else query)).first()


async def by_key(session: AsyncSession, key: str) -> DossierRow | None:
    return (await session.exec(orm_select(DossierRow).where(DossierRow.idempotency_key == key))).first()


async def history_of(session: AsyncSession, dossier_id: uuid.UUID) -> list[DossierHistoryRow]:
    query = orm_select(DossierHistoryRow).where(DossierHistoryRow.dossier_id == dossier_id)
    return list((await session.exec(query.order_by(col(DossierHistoryRow.at), col(DossierHistoryRow.id)))).all())


async def received_between(session: AsyncSession, agency: str, since: datetime, until: datetime) -> list[DossierRow]:
    """The dossiers `agency` received (or refused) in [since, until), in the order of the tracking book."""
    query = (
        orm_select(DossierRow)
        .where(DossierRow.receiving_agency == agency, col(DossierRow.received_at) >= since,
               col(DossierRow.received_at) < until)
        .order_by(col(DossierRow.received_at), col(DossierRow.code))
    )
    return list((await session.exec(query)).all())


async def add_history(session: AsyncSession, history: dict[str, Any]) -> None:
    """One history row of a desk event (`data` given as JSON text), appended to the chain of its dossier, which
    the caller holds locked."""
    await chain.append(session, [{**history, "data": json.loads(history["data"])}])


async def paper_request(session: AsyncSession, request_id: uuid.UUID) -> PaperRequestRow | None:
    return await session.get(PaperRequestRow, request_id)


# --- following a consumer batch (synchronous: inside `AsyncSession.run_sync`) --------------------------------
def lock_desks(conn: Connection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, DeskDossier]:
    """The desk view of the dossiers `ids` that exist, locked until commit (FOR UPDATE, in id order)."""
    query = (
        select(DOSSIERS.c.id, *(DOSSIERS.c[name] for name in DESK_FIELDS)).order_by(DOSSIERS.c.id)
        .where(member_of(conn, DOSSIERS.c.id)).with_for_update()
    )
    return {row["id"]: desk_of(row) for row in conn.execute(query, {"ids": list(ids)}).mappings()}


def save_desks(conn: Connection, moved: Sequence[tuple[uuid.UUID, DeskDossier]]) -> None:
    """Write the desk columns of the dossiers that moved (one statement)."""
    update_rows(conn, DOSSIERS, "id", [{"id": dossier_id, **mutable_values(d)} for dossier_id, d in moved])


def add_case_history(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Append the history rows of processing's events to their (locked) dossiers' chains, in order: one SELECT
    of the last links, one INSERT."""
    chain.append_batch(conn, rows)
