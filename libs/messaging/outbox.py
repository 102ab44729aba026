"""Transactional outbox: events are written with the state change and published by a relay.

A crash between commit and publish only delays an event; a crash between publish and marking it
sent republishes it with the same ce_id, which every consumer's inbox drops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.response import KafkaPublishCommand
from faststream.response.publish_type import PublishType
from opentelemetry import context as otel_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import Table, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.contracts import Envelope, Event, encode
from libs.observability import PipelineMetrics

log = logging.getLogger(__name__)
_PROPAGATOR = TraceContextTextMapPropagator()
_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")
# One relay per outbox publishes at a time (PostgreSQL). With two instances of a service each claiming rows of its
# own (SKIP LOCKED), a dossier's later event could reach Kafka before its earlier one, still unsent by the other
# instance. The lock ends with the claim's transaction; an instance that finds it taken waits for its next round.
# Two int4 keys: a lock space apart from the single-key advisory locks a service takes for itself.
_RELAY_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtext('onestop.outbox'), hashtext(:table))")


def outbox_row(event: Event, now: datetime, trace: otel_context.Context | None = None) -> dict[str, Any]:
    """The outbox row for `event`: envelope headers carrying the trace context `trace` (default: the
    current one), payload, key and topic. For stores that stage many rows in one INSERT."""
    return envelope_row(Envelope.for_event(event, now), event, trace)


def envelope_row(envelope: Envelope, event: Event, trace: otel_context.Context | None = None) -> dict[str, Any]:
    headers = envelope.headers()
    _PROPAGATOR.inject(headers, context=trace)
    return {
        "event_id": envelope.id, "event_type": envelope.type, "topic": event.topic, "key": event.key.decode(),
        "headers": headers, "payload": encode(event).decode(), "created_at": envelope.time.astimezone(UTC),
    }


async def enqueue(session: AsyncSession, table: Table, event: Event, now: datetime) -> Envelope:
    """Stage `event` in the caller's transaction, carrying the current trace context."""
    envelope = Envelope.for_event(event, now)
    await session.execute(table.insert().values(**envelope_row(envelope, event)))
    return envelope


class Outbox:
    """A producing service's outbox: the table its units of work stage events in, and the relay that
    publishes them (woken after a commit that staged some, so they leave without waiting for its poll)."""

    def __init__(self, table: Table, relay: OutboxRelay) -> None:
        self.table = table
        self.relay = relay

    def wake(self) -> None:
        self.relay.wake()


class OutboxRelay:
    """Publishes unpublished rows in id order, a batch at a time, with the idempotent producer."""

    def __init__(
        self,
        sessions: async_sessionmaker[Any],
        table: Table,
        broker: KafkaBroker,
        metrics: PipelineMetrics,
        batch_size: int = 500,
        poll_seconds: float = 0.5,
        linger_seconds: float = 0.01,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self._sessions = sessions
        self._table = table
        self._broker = broker
        self._metrics = metrics
        self._batch_size = batch_size
        self._poll = poll_seconds
        self._linger = linger_seconds
        self._retention = retention
        self._wake = asyncio.Event()
        self._last_gauge = self._last_purge = datetime.min.replace(tzinfo=UTC)

    def wake(self) -> None:
        """Called after a commit that staged events, so they leave without waiting for the poll."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                published = await self.publish_batch()
                await self._housekeeping()
            except asyncio.CancelledError:
                raise
            except Exception:  # broker or database away: keep the rows, try again shortly
                log.exception("outbox relay failed; will retry")
                published = 0
                await asyncio.sleep(1)
            if published < self._batch_size:
                await self._wait()

    async def _wait(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._poll)
            # Woken by a commit: give the next few commits a moment to join, so a busy desk publishes a
            # handful of rows per round trip instead of one (each round is a transaction and a produce).
            await asyncio.sleep(self._linger)
        self._wake.clear()

    async def publish_batch(self) -> int:
        """Claim the oldest unpublished rows and mark them published in one statement, publish them, commit.

        A failed publish raises and rolls the mark back, so the rows go out again on the next round."""
        t = self._table
        async with self._sessions() as session, session.begin():
            oldest = select(t.c.id).where(t.c.published_at.is_(None)).order_by(t.c.id).limit(self._batch_size)
            if session.get_bind().dialect.name == "postgresql":
                if not (await session.execute(_RELAY_LOCK, {"table": t.name})).scalar_one():
                    return 0  # another instance's relay is publishing this outbox now
                oldest = oldest.with_for_update(skip_locked=True)
                # The mark need not wait for the WAL flush: lost in a crash, its rows are only published
                # again, and every consumer's inbox drops the repeat. The relay is one serial loop, so a
                # flush per round (on a slow disk, milliseconds) would otherwise bound the whole suite.
                await session.execute(_ASYNC_COMMIT)
            claim = (update(t).where(t.c.id.in_(oldest.scalar_subquery())).values(published_at=datetime.now(UTC))
                     .returning(t.c.id, t.c.topic, t.c.key, t.c.headers, t.c.payload))
            rows = sorted((await session.execute(claim)).mappings().all(), key=lambda r: r["id"])
            if not rows:
                return 0
            try:
                await asyncio.gather(*[await self._send(row) for row in rows])
            except Exception:
                self._metrics.outbox_failures.inc()
                log.warning("outbox rows %s…%s (%d) not published; they stay and go out again",
                            rows[0]["id"], rows[-1]["id"], len(rows))
                raise
        for topic, n in Counter(row["topic"] for row in rows).items():
            self._metrics.published(topic).inc(n)
        return len(rows)

    async def _send(self, row: Any) -> Any:
        """Hand one row to the producer; returns the delivery future.

        Straight to FastStream's producer, not through `broker.publish`: its telemetry and Prometheus
        middlewares cost ~130 µs per message (a `create` and a `publish` span, histograms), three times the
        send itself, for every event of the suite (ADR 0007). The stored `traceparent` is the span that staged
        the event, so each consumer's span is its child and the dossier stays one trace; what was published is
        counted by `onestop_outbox_published_total{topic}`."""
        producer = self._broker.config.producer  # the broker's idempotent producer, as connected now
        return await producer.publish(KafkaPublishCommand(
            row["payload"].encode(), topic=row["topic"], key=row["key"].encode(), headers=dict(row["headers"]),
            no_confirm=True, _publish_type=PublishType.PUBLISH,
        ))

    async def pending(self) -> int:
        t = self._table
        async with self._sessions() as session:
            query = select(func.count()).select_from(t).where(t.c.published_at.is_(None))
            return int((await session.execute(query)).scalar_one())

    async def _housekeeping(self) -> None:
        now = datetime.now(UTC)
        if now - self._last_gauge >= timedelta(seconds=2):
            self._last_gauge = now
            self._metrics.outbox_pending.set(await self.pending())
        if now - self._last_purge >= timedelta(minutes=10):
            self._last_purge = now
            t = self._table
            async with self._sessions() as session, session.begin():
                await session.execute(delete(t).where(t.c.published_at < now - self._retention))
