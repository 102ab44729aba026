"""Kafka handlers of notifications: every intake and processing event goes through NoticeBook, which keeps
the dossier's contact and state and RECORDS the notices it calls for (sending is the delivery loop's job)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts import REGISTRY, Envelope, Event, topics
from libs.runtime import Runtime
from services.notifications.service import IGNORED, NoticeBook

CONSUMED = (topics.INTAKE, topics.PROCESSING)


def handled_events() -> list[type[Event]]:
    """Every intake and processing event type but the warnings (new types are tracked for their state)."""
    return [cls for _, cls in sorted(REGISTRY.items()) if cls.topic in CONSUMED and cls not in IGNORED]


def register(rt: Runtime, book: NoticeBook, group_id: str) -> None:
    assert rt.consumer is not None

    async def on_event(session: AsyncSession, event: Event, env: Envelope) -> None:
        await book.apply(session, event, env, rt.clock.now())

    for event_class in handled_events():
        rt.consumer.on(event_class)(on_event)
    rt.consumer.subscribe(list(CONSUMED), group_id=group_id)
