"""Idempotent event consumer: parse, dedupe (inbox), apply in one transaction, then commit the offset.

- a record that is not one of our events (bad headers, contract violation) or that the domain
  rejects goes to the service's dead-letter topic, and consumption moves on;
- a transient failure (database or broker away) is retried with backoff, never dead-lettered;
- the offset is committed only after the database commit (NACK_ON_ERROR: anything that still
  escapes seeks back and is read again rather than lost)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential

from libs.contracts import ContractError, Envelope, Event, decode, read_envelope
from libs.db import insert_ignore
from libs.messaging.dlq import publish_dead_letter
from libs.messaging.errors import is_transient
from libs.observability import PipelineMetrics

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Any, Envelope], Awaitable[None]]


class EventConsumer:
    """Dispatches records of the subscribed topics to one handler per event class."""

    def __init__(
        self,
        *,
        service: str,
        broker: KafkaBroker,
        sessions: async_sessionmaker[Any],
        inbox: Table,
        metrics: PipelineMetrics,
        dlq_topic: str,
        after_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.service = service
        self._broker = broker
        self._sessions = sessions
        self._inbox = inbox
        self._metrics = metrics
        self._dlq_topic = dlq_topic
        self._after_commit = after_commit
        self._handlers: dict[type[Event], Handler] = {}

    def on(self, event_class: type[Event]) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self._handlers[event_class] = fn
            return fn

        return register

    def subscribe(self, topics: Iterable[str], group_id: str) -> None:
        async def handle(body: Any, msg: KafkaMessage) -> None:
            await self.process(msg.raw_message, msg.headers)

        handle.__name__ = f"{self.service}_consumer"
        self._broker.subscriber(
            *topics,
            group_id=group_id,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            title=f"{self.service}:{','.join(topics)}",
        )(handle)

    async def process(self, record: Any, headers: dict[str, str]) -> None:
        try:
            envelope = read_envelope(headers)
            event = decode(envelope, record.value or b"")
        except ContractError as exc:
            await self._dead_letter(record, headers, f"contract: {exc}")
            return
        if event is None:
            self._metrics.skipped.labels(self.service, "unknown_type").inc()
            return
        handler = self._handlers.get(type(event))
        if handler is None:
            self._metrics.skipped.labels(self.service, "ignored").inc()
            return
        try:
            applied = await self._apply_with_retry(handler, event, envelope, record.topic)
        except Exception as exc:  # the domain refused it or a bug: park it, keep consuming
            log.exception("event %s (%s) dead-lettered", envelope.id, envelope.type)
            await self._dead_letter(record, headers, f"{type(exc).__name__}: {exc}")
            return
        if applied:
            self._metrics.applied.labels(self.service, envelope.type).inc()
            self._metrics.event_lag.labels(self.service, record.topic).observe(
                max(0.0, (datetime.now(UTC) - envelope.time).total_seconds())
            )
            self._after_commit()
        else:
            self._metrics.skipped.labels(self.service, "duplicate").inc()

    async def _apply_with_retry(self, handler: Handler, event: Event, envelope: Envelope, topic: str) -> bool:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(is_transient),
            wait=wait_exponential(multiplier=0.2, max=10),
            before_sleep=lambda s: log.warning("transient failure, retrying: %s", s.outcome),
            reraise=True,
        ):
            with attempt:
                return await self._apply(handler, event, envelope, topic)
        raise AssertionError("unreachable")

    async def _apply(self, handler: Handler, event: Event, envelope: Envelope, topic: str) -> bool:
        async with self._sessions() as session, session.begin():
            fresh = await insert_ignore(
                session,
                self._inbox,
                {"event_id": envelope.id, "event_type": envelope.type, "topic": topic,
                 "applied_at": datetime.now(UTC)},
            )
            if fresh:
                await handler(session, event, envelope)
            return fresh

    async def _dead_letter(self, record: Any, headers: dict[str, str], error: str) -> None:
        async for attempt in AsyncRetrying(wait=wait_exponential(multiplier=0.2, max=10), reraise=True):
            with attempt:
                await publish_dead_letter(self._broker, self._dlq_topic, record, headers, self.service, error)
        self._metrics.dead_lettered.inc()
