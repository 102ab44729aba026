"""Idempotent event consumer: parse, dedupe (inbox), apply in one transaction, then commit the offset.

Records arrive in batches (one transaction per batch, so throughput does not pay a commit per event).
A service registers ONE batch handler: it receives the new events of a batch, in order, and the open
session, and writes their effects before the commit — what a handler writes, and when, is in the handler:
- a record that is not one of our events (bad headers, contract violation) or that the domain
  rejects goes to the service's dead-letter topic, and consumption moves on — when a batch holds a
  refused event, the batch is rolled back and re-applied one event per transaction to isolate it;
- a transient failure (database or broker away) is retried with backoff, never dead-lettered;
- the offsets are committed only after the database commit (NACK_ON_ERROR: anything that still
  escapes seeks back and is read again rather than lost).

(About 300 lines: the batch handler's `Delivered` and `each` stay beside the consumer that feeds them.)"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import trace
from opentelemetry.trace import Span
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential

from libs.contracts import ContractError, Envelope, Event, decode, event_class, read_envelope
from libs.messaging.dlq import Sealer, publish_dead_letter
from libs.messaging.errors import is_transient
from libs.messaging.tables import claim_inbox
from libs.observability import PipelineMetrics, log_context
from libs.observability.tracing import consume_span, messaging_tracer, remote_context, start_consume_span

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Poison = list[tuple[Any, dict[str, str], str]]  # (record, headers, error) to dead-letter
AfterCommit = Callable[[], None]


@dataclass(frozen=True, eq=False)
class Delivered(Generic[E]):
    """One new event of a batch, as the batch handler receives it."""

    event: E
    envelope: Envelope
    record: Any
    headers: dict[str, str]
    span: Span | None = field(default=None, compare=False)

    @contextmanager
    def traced(self) -> Iterator[None]:
        """Make this event's `<topic> process` span and its log context current for the block: events
        staged meanwhile (outbox rows) carry its trace, log lines name its dossier."""
        if self.span is None:
            with _about(self.headers):
                yield
            return
        with trace.use_span(self.span, end_on_exit=False), _about(self.headers):
            yield


# The service's batch handler: the new events of one batch in arrival order and the open session; it writes
# their effects (nothing is committed yet) and may return what to do once the transaction has committed.
BatchHandler = Callable[[AsyncSession, list[Delivered[Any]]], Awaitable[AfterCommit | None]]


async def each(
    fn: Callable[[AsyncSession, Any, Envelope], Awaitable[None]], session: AsyncSession, batch: list[Delivered[Any]]
) -> None:
    """Apply `fn` to the events of a batch one at a time (for handlers with nothing to gain from batching)."""
    for item in batch:
        with item.traced():
            await fn(session, item.event, item.envelope)


@dataclass(frozen=True)
class _Item:
    record: Any
    headers: dict[str, str]
    envelope: Envelope
    event: Event


class _Refused(Exception):
    """The handler refused a batch (not transient): isolate the event it refused."""


async def _undecoded(_msg: Any) -> None:
    """FastStream's decoder for our batch subscriber: none. `handle` reads the records from `msg.raw_message`
    and checks each envelope itself; FastStream's default would JSON-decode every body first, for nothing."""
    return None


class EventConsumer:
    """Reads the subscribed topics and hands the events it handles, a batch at a time, to one batch handler."""

    def __init__(
        self,
        *,
        service: str,
        broker: KafkaBroker,
        sessions: async_sessionmaker[Any],
        inbox: Table,
        metrics: PipelineMetrics,
        dlq_topic: str,
        after_commit: AfterCommit = lambda: None,
        batch_size: int = 500,
        fetch_wait_ms: int = 50,
        tracer_provider: Any = None,
        sealer: Sealer | None = None,
    ) -> None:
        self.service = service
        self._sealer = sealer or Sealer()  # the development key unless the runtime gives ONESTOP_DLQ_KEY
        self._broker = broker
        self._sessions = sessions
        self._inbox = inbox
        self._metrics = metrics
        self._dlq_topic = dlq_topic
        self._after_commit = after_commit
        self._batch_size = batch_size
        self._fetch_wait_ms = fetch_wait_ms
        self._handled: frozenset[type[Event]] = frozenset()
        self._subscriber: Any = None
        self.last_batch_at = time.monotonic()  # for the stall watchdog (watchdog.py)
        self._handler: BatchHandler | None = None
        self._tracer = messaging_tracer(tracer_provider)

    def handle(self, events: Iterable[type[Event]], handler: BatchHandler) -> None:
        """Route the event classes `events` to `handler`; every other type is skipped from its header."""
        if self._handler is not None:
            raise ValueError(f"{self.service}'s consumer has its batch handler already")
        self._handled, self._handler = frozenset(events), handler

    @property
    def handled(self) -> frozenset[type[Event]]:
        return self._handled

    def subscribe(self, topics: Iterable[str], group_id: str) -> None:
        topics = list(topics)

        async def handle(body: Any, msg: KafkaMessage) -> None:
            await self.process_batch(list(msg.raw_message))

        handle.__name__ = f"{self.service}_consumer"
        self._subscriber = self._broker.subscriber(
            *topics,
            group_id=group_id,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            batch=True,
            max_records=self._batch_size,
            batch_timeout_ms=100,
            # Let the broker gather up to 32 KB (or 50 ms) per fetch: fewer, fuller batches cost the broker
            # and us far less per event than a fetch for every record or two, for at most 50 ms of latency.
            fetch_min_bytes=32 * 1024,
            fetch_max_wait_ms=self._fetch_wait_ms,
            decoder=_undecoded,
            title=f"{self.service}:{','.join(topics)}",
        )
        self._subscriber(handle)

    def assigned(self) -> set[Any]:
        """The partitions this process's aiokafka consumer holds now (none while it is not running)."""
        consumer = getattr(self._subscriber, "consumer", None)
        return set(consumer.assignment()) if consumer is not None else set()

    async def restart(self) -> None:
        """Stop the subscriber (its aiokafka consumer leaves) and start it again: a fresh consumer that finds
        its group coordinator and rejoins. What it had not committed it reads again; the inbox drops it."""
        try:
            await asyncio.wait_for(self._subscriber.stop(), timeout=30)
        except Exception:  # a wedged consumer may not stop cleanly; the fresh one replaces it all the same
            log.exception("%s: stopping the stalled consumer failed", self.service)
        await self._subscriber.start()
        self.last_batch_at = time.monotonic()

    async def process(self, record: Any, headers: dict[str, str] | None = None) -> None:
        """One record (tests, re-drives): the same path as a batch of one."""
        await self.process_batch([record])

    async def process_batch(self, records: list[Any]) -> None:
        self.last_batch_at = time.monotonic()
        items: list[_Item] = []
        poison: Poison = []
        for record in records:
            headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
            item = self._parse(record, headers, poison)
            if item is not None:
                items.append(item)
            else:  # skipped or poison: still one span per record, so the trace shows the hop
                with consume_span(self._tracer, record, headers):
                    pass
        if items:
            try:
                applied = await self._retrying(lambda: self._apply(items))
                self._count(items, applied)
            except _Refused:
                for item in items:  # slow path: find the refused one, apply the others
                    await self._apply_one(item, poison)
            self._after_commit()
        for record, headers, error in poison:
            await self._dead_letter(record, headers, error)

    def _parse(self, record: Any, headers: dict[str, str], poison: Poison) -> _Item | None:
        try:
            envelope = read_envelope(headers)
        except ContractError as exc:
            poison.append((record, headers, f"contract: {exc}"))
            return None
        cls = event_class(envelope.type)
        if cls is None:
            self._metrics.skipped.labels(self.service, "unknown_type").inc()
            return None
        if cls not in self._handled:  # decided from the header: a body this service ignores is not even parsed
            self._metrics.skipped.labels(self.service, "ignored").inc()
            return None
        try:
            event = decode(envelope, record.value or b"")
        except ContractError as exc:
            poison.append((record, headers, f"contract: {exc}"))
            return None
        assert event is not None  # its type is known: `event_class` found it
        return _Item(record, headers, envelope, event)

    async def _retrying(self, fn: Callable[[], Awaitable[set[str]]]) -> set[str]:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(is_transient),
            wait=wait_exponential(multiplier=0.2, max=10),
            before_sleep=lambda s: log.warning("transient failure, retrying: %s", s.outcome),
            reraise=True,
        ):
            with attempt:
                return await fn()
        raise AssertionError("unreachable")

    async def _apply(self, items: list[_Item]) -> set[str]:
        """Apply every new event of the batch in one transaction; returns the ids applied.

        The inbox rows are claimed first, in one INSERT … ON CONFLICT DO NOTHING RETURNING: the ids it
        returns are the events not applied before (a refusal or failure rolls the claim back with the rest).
        Then the batch handler writes the effects of the claimed events, and the transaction commits. A
        non-transient failure of the handler or of the commit refuses the batch, which is then re-applied one
        event at a time; a failing claim is our own fault, not the events': it propagates and the batch is
        read again."""
        assert self._handler is not None  # `_parse` keeps nothing without one
        claimed: set[str] | None = None
        spans: list[Span] = []
        try:
            async with self._sessions() as session:
                async with session.begin():
                    fresh = list({i.envelope.id: i for i in reversed(items)}.values())[::-1]  # first of each id
                    claimed = await claim_inbox(session, self._inbox, [
                        (i.envelope.id, i.envelope.type, i.record.topic) for i in fresh], datetime.now(UTC))
                    batch = []
                    for i in fresh:
                        if i.envelope.id in claimed:
                            span = start_consume_span(self._tracer, i.record, i.headers)
                            spans.append(span)
                            batch.append(Delivered(i.event, i.envelope, i.record, i.headers, span))
                    after = await self._handler(session, batch) if batch else None
                if after is not None:
                    after()
            return claimed
        except Exception as exc:
            for span in spans:
                span.record_exception(exc)
            if claimed is None or is_transient(exc):
                raise
            raise _Refused(str(exc)) from exc
        finally:
            for span in spans:
                span.end()

    async def _apply_one(self, item: _Item, poison: Poison) -> None:
        try:
            applied = await self._retrying(lambda: self._apply([item]))
        except _Refused as exc:
            log.error("event %s (%s) dead-lettered: %s", item.envelope.id, item.envelope.type, exc.__cause__)
            cause = exc.__cause__ or exc
            poison.append((item.record, item.headers, f"{type(cause).__name__}: {cause}"))
            return
        self._count([item], applied)

    def _count(self, items: list[_Item], applied: set[str]) -> None:
        now = datetime.now(UTC)
        applied = set(applied)  # a copy: each id counts as applied once, a second copy in the batch as a duplicate
        for item in items:
            if item.envelope.id in applied:
                applied.discard(item.envelope.id)
                if log.isEnabledFor(logging.INFO):  # the audit line; its trace context is not free per event
                    with remote_context(item.headers), _about(item.headers):
                        log.info("event applied from %s", item.record.topic)
                self._metrics.applied.labels(self.service, item.envelope.type).inc()
                self._metrics.event_lag.labels(self.service, item.record.topic).observe(
                    max(0.0, (now - item.envelope.time).total_seconds())
                )
            else:
                self._metrics.skipped.labels(self.service, "duplicate").inc()

    async def _dead_letter(self, record: Any, headers: dict[str, str], error: str) -> None:
        """Park a poison record; while the dead-letter topic cannot be written, retry with back-off (the batch's
        offsets wait: nothing is skipped unparked) and count each failed attempt."""

        def failed(state: Any) -> None:
            self._metrics.dlq_publish_failures.inc()
            log.warning("could not publish a dead letter to %s, retrying: %s", self._dlq_topic, state.outcome)

        async for attempt in AsyncRetrying(wait=wait_exponential(multiplier=0.2, max=10), reraise=True,
                                           before_sleep=failed):
            with attempt, remote_context(headers), _about(headers):  # the dead letter stays in the dossier's trace
                await publish_dead_letter(self._broker, self._dlq_topic, record, headers, self.service, error,
                                          self._sealer)
        self._metrics.dead_lettered.inc()


def _about(headers: dict[str, str]) -> Any:
    """Log lines written meanwhile name the record's dossier and event."""
    return log_context(
        dossier=headers.get("ce_subject"), event_type=headers.get("ce_type"), event_id=headers.get("ce_id")
    )
