"""The hash chain of `dossier_history` (domain/chain.py) at write time and at check time.

Entries of one dossier are appended by one writer at a time: under the dossier's row lock (the desk's moves,
uploads and following a batch take it before they write), on SQLite by its single writer; the unique index on
(dossier_id, seq) turns any fork into a failed write instead. A write reads each dossier's last link once (one
SELECT for a whole consumer batch) and chains the batch's entries in memory. The receipt's first entry needs no
read: the dossier is new."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.db.bulk import ainsert_rows, insert_rows, member_of
from services.intake.domain.chain import CONTENT, Link, link
from services.intake.store.tables import HISTORY


def _last_query(conn: Any) -> Any:
    tops = (select(HISTORY.c.dossier_id, func.max(HISTORY.c.seq).label("seq"))
            .where(member_of(conn, HISTORY.c.dossier_id), HISTORY.c.seq.is_not(None))
            .group_by(HISTORY.c.dossier_id).subquery())
    return (select(HISTORY.c.dossier_id, HISTORY.c.seq, HISTORY.c.hash)
            .join(tops, and_(HISTORY.c.dossier_id == tops.c.dossier_id, HISTORY.c.seq == tops.c.seq)))


def _links(rows: Any) -> dict[uuid.UUID, Link]:
    return {r.dossier_id: Link(r.seq, r.hash) for r in rows}


def append_batch(conn: Connection, entries: Sequence[dict[str, Any]]) -> None:
    """Append entries of several (locked) dossiers, in order: one SELECT of their last links, one INSERT."""
    if not entries:
        return
    ids = sorted({e["dossier_id"] for e in entries})
    last = _links(conn.execute(_last_query(conn), {"ids": ids}))
    insert_rows(conn, HISTORY, link(entries, last))


async def append(session: AsyncSession, entries: Sequence[dict[str, Any]]) -> None:
    """Append entries of one or more dossiers the caller holds locked, in order (the desk's moves, uploads)."""
    if not entries:
        return
    ids = sorted({e["dossier_id"] for e in entries})
    last = _links(await session.execute(_last_query(session), {"ids": ids}))
    await ainsert_rows(session, HISTORY, link(entries, last))


async def entries_of(session: AsyncSession, dossier_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every stored entry of one dossier, as stored (for the check)."""
    columns = [HISTORY.c.id, *(HISTORY.c[name] for name in CONTENT), HISTORY.c.prev_hash, HISTORY.c.hash]
    query = select(*columns).where(HISTORY.c.dossier_id == dossier_id).order_by(HISTORY.c.id)
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def head_of(session: AsyncSession, dossier_id: uuid.UUID) -> str | None:
    """The stored hash of the dossier's last chained entry (printed on the process-control slip)."""
    query = (select(HISTORY.c.hash).where(HISTORY.c.dossier_id == dossier_id, HISTORY.c.seq.is_not(None))
             .order_by(HISTORY.c.seq.desc()).limit(1))
    return (await session.execute(query)).scalar_one_or_none()
