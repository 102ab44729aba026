"""Kafka batch handler of intake: the desk follows processing's events (state, appointment, slip rows).

app.py subscribes it: `rt.consuming([topics.PROCESSING], INBOX, CASE_EVENTS, on_processing_batch, …)`."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts import REGISTRY
from libs.contracts.processing import CaseEvent
from libs.messaging import AfterCommit, Delivered
from services.intake.following import on_case_events

CASE_EVENTS = sorted((c for c in REGISTRY.values() if issubclass(c, CaseEvent)), key=lambda c: c.ce_type)


async def on_processing_batch(session: AsyncSession, batch: list[Delivered[CaseEvent]]) -> AfterCommit | None:
    """The new case events of one consumer batch, in order, written in the consumer's open transaction:
    the dossiers' desk columns (one UPDATE) and their history rows (one INSERT). Nothing is staged in the
    outbox, nothing to do after the commit."""
    await on_case_events(session, batch)
    return None
