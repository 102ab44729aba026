"""Kafka handlers of intake: the desk follows processing's events (state, appointment, slip rows)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts import REGISTRY, Envelope, topics
from libs.contracts.processing import CaseEvent
from libs.runtime import Runtime
from services.intake.service import follow_case

CASE_EVENTS = sorted((c for c in REGISTRY.values() if issubclass(c, CaseEvent)), key=lambda c: c.ce_type)


def register(rt: Runtime) -> None:
    assert rt.consumer is not None

    async def on_case_event(session: AsyncSession, event: CaseEvent, envelope: Envelope) -> None:
        await follow_case(session, event, envelope)

    for event_class in CASE_EVENTS:
        rt.consumer.on(event_class)(on_case_event)
    rt.consumer.subscribe([topics.PROCESSING], group_id=rt.settings.group(rt.name))
