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
from libs.messaging import EventConsumer, ensure_topics, inbox_table
from libs.observability import PipelineMetrics
from tests.conftest import KAFKA, unique
from tests.integration.messaging.conftest import engine_with
from tests.support.kafka import find_records, headers_of

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

    @c.on(Probe)
    async def apply(session: Any, event: Probe, env: Envelope) -> None:
        flaky.hit()
        if event.action == "refuse":
            raise ValueError("the domain refuses this one")
        if event.action == "refuse_at_commit":  # batch work left to a before-commit hook fails there

            def fail(_session: Any) -> None:
                raise ValueError("refused while committing")

            sa_event.listen(session.sync_session, "before_commit", fail, once=True)
        await session.execute(effects.insert().values(event_id=env.id, code=event.code))

    c.flaky = flaky  # type: ignore[attr-defined]
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
    # the same batch again (a redelivery after a crash): nothing changes, nothing new is parked
    await c.process_batch(batch[:3] + batch[4:])
    assert await effect_count(sessions) == 5


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
