"""Kafka handlers of reporting: every dossier event is folded into the live generation of the read model.

The consumer applies a batch of records in one transaction and calls a handler per event; the handler
only collects the event, and the whole batch is folded in one go (`service.apply_events`, the rebuild's
own path) just before that transaction commits — a handful of statements per batch, not per event."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from libs.contracts import Envelope, Event
from libs.runtime import Runtime
from services.reporting.metrics import BusinessMetrics
from services.reporting.projection import CONSUMED, Baked, handled_events
from services.reporting.service import Item, apply_events, baked_of, ensure_live
from services.reporting.store import generation_tables

GROUP_ID = "onestop-reporting"
_PENDING = "reporting.pending"


def register(rt: Runtime, metrics: BusinessMetrics | None = None, topic_names: Sequence[str] = CONSUMED,
             group_id: str = GROUP_ID) -> None:
    assert rt.consumer is not None
    settings: Any = rt.settings
    first = Baked(settings.timezone, settings.judge_to_minute)  # rules of generation 1, if we create it

    def fold_batch(session: Session) -> None:
        items: list[Item] = session.info.pop(_PENDING, [])
        if not items:
            return
        conn = session.connection()
        generation = ensure_live(conn, first, lock=True)  # FOR SHARE: a swap waits for this transaction
        _, endings = apply_events(conn, generation_tables(generation), baked_of(conn, generation), items)
        if endings and metrics is not None:
            sa_event.listen(session, "after_commit", lambda _s: metrics.count(endings), once=True)

    async def on_event(session: AsyncSession, event: Event, envelope: Envelope) -> None:
        pending = session.sync_session.info.get(_PENDING)
        if pending is None:
            pending = session.sync_session.info[_PENDING] = []
            sa_event.listen(session.sync_session, "before_commit", fold_batch, once=True)
        pending.append((envelope.id, event, envelope))

    for event_class in handled_events():
        rt.consumer.on(event_class)(on_event)
    rt.consumer.subscribe(list(topic_names), group_id=group_id)
