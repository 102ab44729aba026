"""The consumer's guarantees on real PostgreSQL and the real broker: batches, duplicates, refused events
(dead-lettered, the rest applied), transient failures (retried, never dead-lettered)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from aiokafka.structs import ConsumerRecord
from sqlalchemy import Column, MetaData, String, Table, func, select
from sqlalchemy import event as sa_event
from sqlalchemy.exc import OperationalError

from libs.contracts import Envelope, Event, encode
from libs.db import make_session_factory
from libs.messaging import AfterCommit, Delivered, EventConsumer, ensure_topics, inbox_table
from libs.messaging import consumer as consumer_module
from libs.messaging.dlq import Sealer
from libs.observability import PipelineMetrics
from tests.conftest import KAFKA, unique
from tests.integration.messaging.conftest import engine_with
from tests.support.kafka import find_records, headers_of, publish_raw
from tests.support.stack import eventually

pytestmark = pytest.mark.infra


class Probe(Event):
    """A test-only event type (registered under a test ce_type)."""

    ce_type: ClassVar[str] = "vn.onestop.test.probe.v1"
    topic: ClassVar[str] = "test.probe"
    source: ClassVar[str] = "/onestop/test"
    action: str = "ok"


metadata = MetaData()
inbox = inbox_table(metadata)
effects = Table("effects", metadata, Column("event_id", String(64), primary_key=True), Column("code", String(64)))


class Flaky:
    """Fails like a lost database connection a given number of times."""

    def __init__(self, failures: int) -> None:
        self.left = failures

    def hit(self) -> None:
        if self.left > 0:
            self.left -= 1
            raise OperationalError("SELECT 1", {}, ConnectionResetError("connection lost"))


@pytest.fixture
async def consumer(database_url: str, connected_broker: Any, kafka_bootstrap: str
                   ) -> AsyncIterator[tuple[EventConsumer, Any, str]]:
    engine = await engine_with(database_url, metadata)
    sessions = make_session_factory(engine)
    broker, registry = connected_broker
    dlq = unique("test.dlq")
    await ensure_topics(kafka_bootstrap, [dlq], 1, 1)
    c = EventConsumer(service="test", broker=broker, sessions=sessions, inbox=inbox,
                      metrics=PipelineMetrics("test", registry), dlq_topic=dlq)
    flaky = Flaky(0)
    seen: list[list[str]] = []  # the codes of each batch the handler was given
    committed: list[list[str]] = []  # the same, once that batch's transaction had committed

    async def apply(session: Any, batch: list[Delivered[Probe]]) -> AfterCommit:
        codes = [item.event.code for item in batch]
        seen.append(codes)
        for item in batch:
            flaky.hit()
            if item.event.action == "refuse":
                raise ValueError("the domain refuses this one")
            if item.event.action == "refuse_at_commit":  # stands for a constraint the database checks at commit

                def fail(_session: Any) -> None:
                    raise ValueError("refused while committing")

                sa_event.listen(session.sync_session, "before_commit", fail, once=True)
        await session.execute(effects.insert(), [{"event_id": i.envelope.id, "code": i.event.code} for i in batch])
        return lambda: committed.append(codes)

    c.handle([Probe], apply)
    c.flaky, c.seen, c.committed = flaky, seen, committed  # type: ignore[attr-defined]
    yield c, sessions, dlq
    await engine.dispose()


def record(event: Event, offset: int) -> ConsumerRecord:  # type: ignore[type-arg]
    env = Envelope.for_event(event, datetime.now(UTC))
    headers = tuple((k, v.encode()) for k, v in env.headers().items())
    return ConsumerRecord(topic="test.probe", partition=0, offset=offset, timestamp=0, timestamp_type=0,
                          key=event.key, value=encode(event), checksum=None, serialized_key_size=0,
                          serialized_value_size=0, headers=headers)


def probe(i: int, action: str = "ok") -> Probe:
    return Probe(dossier_id=uuid.uuid4(), code=f"P-{i}", action=action)


async def effect_count(sessions: Any) -> int:
    async with sessions() as s:
        return int((await s.execute(select(func.count()).select_from(effects))).scalar_one())


async def test_batch_with_a_refused_event_applies_the_rest_and_parks_that_one(consumer: Any) -> None:
    c, sessions, dlq = consumer
    batch = [record(probe(i, "refuse" if i == 3 else "ok"), i) for i in range(6)]
    await c.process_batch(batch)
    assert await effect_count(sessions) == 5
    dead = await find_records(KAFKA, dlq, lambda r: True)
    assert len(dead) == 1
    h = headers_of(dead[0])
    assert "the domain refuses this one" in h["dlq_error"] and h["dlq_source_offset"] == "3"
    # The body is sealed: the poison event's data is not readable on the dead-letter topic; the key opens it.
    assert dead[0].value != batch[3].value and batch[3].value not in dead[0].value
    assert b"P-3" not in dead[0].value and Sealer().open(dead[0].value, h) == batch[3].value
    # the same batch again (a redelivery after a crash): nothing changes, nothing new is parked
    await c.process_batch(batch[:3] + batch[4:])
    assert await effect_count(sessions) == 5


async def test_the_handler_gets_each_batch_once_in_order_without_events_applied_before(consumer: Any) -> None:
    c, sessions, _ = consumer
    records = [record(probe(i), i) for i in range(5)]
    await c.process_batch(records[:2])
    await c.process_batch(records)  # the first two again, as after a crash before the offset commit
    assert c.seen == [["P-0", "P-1"], ["P-2", "P-3", "P-4"]]
    assert c.committed == c.seen  # what the handler asked for after commit ran once per committed batch
    assert await effect_count(sessions) == 5


async def test_after_commit_runs_only_for_the_transactions_that_committed(consumer: Any) -> None:
    c, _, _ = consumer
    await c.process_batch([record(probe(i, "refuse" if i == 1 else "ok"), i) for i in range(3)])
    # the whole batch was refused, then each event applied alone: the refused one never committed
    assert c.seen == [["P-0", "P-1", "P-2"], ["P-0"], ["P-1"], ["P-2"]]
    assert c.committed == [["P-0"], ["P-2"]]


async def test_transient_failures_are_retried_not_dead_lettered(consumer: Any) -> None:
    c, sessions, dlq = consumer
    c.flaky.left = 2
    await c.process_batch([record(probe(i), i) for i in range(4)])
    assert await effect_count(sessions) == 4
    assert await find_records(KAFKA, dlq, lambda r: True, timeout=3, at_least=0) == []


async def test_duplicates_inside_one_batch_apply_once(consumer: Any) -> None:
    c, sessions, _ = consumer
    r = record(probe(1), 0)
    await c.process_batch([r, r, r])
    assert await effect_count(sessions) == 1


async def test_a_failure_at_commit_isolates_the_event_that_caused_it(consumer: Any) -> None:
    c, sessions, dlq = consumer
    batch = [record(probe(i, "refuse_at_commit" if i == 2 else "ok"), i) for i in range(4)]
    await c.process_batch(batch)
    assert await effect_count(sessions) == 3
    dead = await find_records(KAFKA, dlq, lambda r: True)
    assert [headers_of(r)["dlq_source_offset"] for r in dead] == ["2"]
    assert "refused while committing" in headers_of(dead[0])["dlq_error"]


class Unwatched(Event):
    """A known type this consumer has no handler for."""

    ce_type: ClassVar[str] = "vn.onestop.test.unwatched.v1"
    topic: ClassVar[str] = "test.probe"
    source: ClassVar[str] = "/onestop/test"


def with_body(r: ConsumerRecord, value: bytes) -> ConsumerRecord:  # type: ignore[type-arg]
    return ConsumerRecord(topic=r.topic, partition=r.partition, offset=r.offset, timestamp=0, timestamp_type=0,
                          key=r.key, value=value, checksum=None, serialized_key_size=0,
                          serialized_value_size=len(value), headers=r.headers)


async def test_a_type_without_handler_is_skipped_unread_and_a_broken_handled_one_is_parked(consumer: Any) -> None:
    c, sessions, dlq = consumer
    ignored = with_body(record(Unwatched(dossier_id=uuid.uuid4(), code="U-1"), 0), b"{not json")
    broken = with_body(record(probe(1), 1), b"{not json")
    await c.process_batch([ignored, broken, record(probe(2), 2)])
    assert await effect_count(sessions) == 1
    dead = await find_records(KAFKA, dlq, lambda r: True)
    assert [headers_of(d)["dlq_source_offset"] for d in dead] == ["1"]  # the ignored one is not poison


async def test_a_dead_letter_that_cannot_be_published_is_retried_and_counted(
        consumer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    c, sessions, dlq = consumer
    real = consumer_module.publish_dead_letter
    failures = {"left": 2}

    async def flaky_publish(*args: Any, **kwargs: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("broker unreachable")
        await real(*args, **kwargs)

    monkeypatch.setattr(consumer_module, "publish_dead_letter", flaky_publish)
    await c.process_batch([record(probe(0, "refuse"), 0), record(probe(1), 1)])
    assert await effect_count(sessions) == 1
    dead = await find_records(KAFKA, dlq, lambda r: True)
    assert [headers_of(d)["dlq_source_offset"] for d in dead] == ["0"]  # parked once, after two failed tries
    assert c._metrics.dlq_publish_failures._value.get() == 2


async def test_a_restarted_consumer_rejoins_its_group_and_consumes_again(consumer: Any, connected_broker: Any) -> None:
    """What the stall watchdog does to a consumer a broker kill left outside its group (libs/messaging/watchdog.py):
    the subscriber stops and starts again with a fresh aiokafka consumer, which rejoins and goes on."""
    c, sessions, _ = consumer
    broker, _ = connected_broker
    topic = unique("test.restart")
    await ensure_topics(KAFKA, [topic], 2, 1)
    c.subscribe([topic], unique("test-restart-group"))
    await broker.start()

    async def publish(i: int) -> None:
        event = probe(i)
        env = Envelope.for_event(event, datetime.now(UTC))
        await publish_raw(KAFKA, topic, event.key, encode(event), env.headers())

    async def applied(n: int) -> bool:
        return await effect_count(sessions) == n

    await publish(1)
    await eventually(lambda: applied(1), timeout=30)
    before = c.last_batch_at
    await c.restart()
    assert c.last_batch_at > before
    await publish(2)
    await eventually(lambda: applied(2), timeout=30)
    assert c.assigned(), "the fresh consumer holds the topic's partitions again"
