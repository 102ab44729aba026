"""The batch handler of reporting: every dossier event is folded into the live generation of the read model.

The consumer hands over the new events of one batch inside the batch's transaction; the handler folds them
all in one go with the rebuild's own path (`readmodel.apply_events`) — a handful of statements per batch,
not per event — and returns what to do once the transaction has committed: count the dossier endings it
made known in the business metrics. Reporting stages no events, so nothing here needs `item.traced()`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from libs.calendar import WorkCalendar
from libs.messaging import AfterCommit, BatchHandler, Delivered
from services.reporting.domain.projection import Baked, Item
from services.reporting.domain.state import FactState
from services.reporting.metrics import BusinessMetrics
from services.reporting.readmodel import apply_events
from services.reporting.store.generations import baked_of, ensure_live
from services.reporting.store.tables import generation_tables


def fold_into_live(first: Baked, calendar: WorkCalendar, metrics: BusinessMetrics | None = None) -> BatchHandler:
    """The handler; `first`: the rules baked into generation 1, if this batch has to create it; `calendar`:
    the working-day calendar the fold moves appointments by."""

    def fold(conn: Connection, items: list[Item]) -> list[FactState]:
        generation = ensure_live(conn, first, lock=True)  # FOR SHARE: a swap waits for this transaction
        _, endings = apply_events(conn, generation_tables(generation), baked_of(conn, generation), items,
                                  calendar)
        return endings

    async def handle(session: AsyncSession, batch: list[Delivered[Any]]) -> AfterCommit | None:
        conn = await session.connection()
        endings = await conn.run_sync(fold, [(item.envelope.id, item.event, item.envelope) for item in batch])
        if not endings or metrics is None:
            return None
        return lambda: metrics.count(endings)

    return handle
