"""The case event log (`case_events`): appended with the change that raised the events, read for the slip."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.db import bulk
from services.processing.domain import CaseEvent
from services.processing.store.tables import EVENTS, CaseEventRow


def event_row(dossier_id: UUID, seq: int, event_id: str, event: CaseEvent, data: dict[str, Any]) -> dict[str, Any]:
    """A `case_events` row (for `insert_events`); `data` is `event.to_dict()`."""
    return {"dossier_id": dossier_id, "seq": seq, "event_id": event_id, "type": event.type, "at": event.at,
            "actor": event.actor[:100], "agency": event.agency, "data": data}


async def insert_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Append many `case_events` rows in one statement ((dossier_id, seq) keeps two writers apart)."""
    await bulk.ainsert_rows(session, EVENTS, rows)


async def events_of(session: AsyncSession, dossier_id: UUID) -> list[CaseEventRow]:
    query = select(CaseEventRow).where(CaseEventRow.dossier_id == dossier_id).order_by(col(CaseEventRow.seq))
    return list((await session.exec(query)).all())
