"""The batch handler of notifications: every intake and processing event goes through the notice book, which
keeps the dossier's contact and state and RECORDS the notices it calls for (sending is the delivery loop's
job). Everything a batch writes is written here, before the consumer's transaction commits."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import Table
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.clock import Clock
from libs.contracts import REGISTRY, Event, topics
from libs.messaging import AfterCommit, BatchHandler, Delivered, outbox_row
from libs.observability import current_traceparent
from services.notifications.domain.facts import IGNORED
from services.notifications.metrics import NoticeMetrics
from services.notifications.notices import NoticeBook
from services.notifications.store import stage_outbox

CONSUMED = (topics.INTAKE, topics.PROCESSING)


def handled_events() -> list[type[Event]]:
    """Every intake and processing event type but the warnings (new types are tracked for their state)."""
    return [cls for _, cls in sorted(REGISTRY.items()) if cls.topic in CONSUMED and cls not in IGNORED]


def notice_handler(book: NoticeBook, outbox: Table, metrics: NoticeMetrics, clock: Clock) -> BatchHandler:
    async def handle(session: AsyncSession, batch: list[Delivered[Any]]) -> AfterCommit:
        now = clock.now()
        # Read and check each event: one that cannot make its notice refuses the batch (the consumer then
        # applies its events one at a time and dead-letters that one).
        items = [book.read(d.event, d.envelope, now, origin, traceparent_of(d)) for origin, d in enumerate(batch)]
        conn = await session.connection()
        # Dossiers, held and stored notices loaded; planned in pure code; contacts, held notices, notices
        # and steps written, a statement each.
        outcome = await conn.run_sync(book.record, items)
        # notice.failed of the notices recorded expired, each in the trace of the event that caused it.
        rows = []
        for origin, event in outcome.events:
            with batch[origin].traced():
                rows.append(outbox_row(event, now))
        if rows:
            await conn.run_sync(stage_outbox, outbox, rows)
        return partial(metrics.count_all, outcome.counts)

    return handle


def traceparent_of(delivered: Delivered[Any]) -> str | None:
    """The traceparent of the event's `process` span: its notices are sent later by the delivery loop, whose
    outcome events continue this trace (services/notifications/delivery.py)."""
    with delivered.traced():
        return current_traceparent()
