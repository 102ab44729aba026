"""The outbox relay on the real broker, on PostgreSQL and on SQLite (the embedded default): rows go out in
staging order, are marked published in the same claim, and a failed publish leaves them to go out again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import MetaData, func, select, text

from libs.db import make_session_factory
from libs.messaging import OutboxRelay, enqueue, ensure_topics, outbox_table
from libs.observability import PipelineMetrics
from tests.conftest import KAFKA
from tests.integration.messaging.conftest import engine_with
from tests.integration.messaging.test_consumer import Probe
from tests.support.kafka import find_records, headers_of

pytestmark = pytest.mark.infra

metadata = MetaData()
outbox = outbox_table(metadata)


@pytest.fixture
async def relay(database_url: str, connected_broker: Any, kafka_bootstrap: str
                ) -> AsyncIterator[tuple[OutboxRelay, Any, Any]]:
    engine = await engine_with(database_url, metadata)
    sessions = make_session_factory(engine)
    broker, registry = connected_broker
    await ensure_topics(kafka_bootstrap, [Probe.topic], 1, 1)
    yield OutboxRelay(sessions, outbox, broker, PipelineMetrics("test", registry), batch_size=3), sessions, registry
    await engine.dispose()


async def stage(sessions: Any, n: int) -> list[str]:
    dossier = uuid.uuid4()  # one key, one partition: the order on the topic is the staging order
    async with sessions() as session, session.begin():
        return [(await enqueue(session, outbox, Probe(dossier_id=dossier, code=f"R-{i}"), datetime.now(UTC))).id
                for i in range(n)]


async def unpublished(sessions: Any) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        return int((await session.execute(query)).scalar_one())


def sample(registry: Any, name: str, **labels: str) -> float:
    return float(registry.get_sample_value(name, {"service": "test", **labels}) or 0.0)


async def test_rows_go_out_in_staging_order_a_batch_at_a_time(relay: Any) -> None:
    r, sessions, registry = relay
    before = sample(registry, "onestop_outbox_published_total", topic=Probe.topic)
    ids = await stage(sessions, 5)
    assert [await r.publish_batch(), await r.publish_batch(), await r.publish_batch()] == [3, 2, 0]
    assert await unpublished(sessions) == 0
    assert sample(registry, "onestop_outbox_published_total", topic=Probe.topic) - before == 5
    seen = await find_records(KAFKA, Probe.topic, lambda rec: headers_of(rec)["ce_id"] in ids, at_least=5)
    assert [headers_of(rec)["ce_id"] for rec in seen] == ids


async def test_a_failed_publish_leaves_the_rows_unpublished(relay: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    r, sessions, registry = relay
    ids = await stage(sessions, 2)
    failed = sample(registry, "onestop_outbox_publish_failures_total")

    async def broker_away(row: Any) -> Any:
        raise ConnectionError("broker away")

    monkeypatch.setattr(r, "_send", broker_away)
    with pytest.raises(ConnectionError):
        await r.publish_batch()
    assert await unpublished(sessions) == 2
    assert sample(registry, "onestop_outbox_publish_failures_total") - failed == 1
    monkeypatch.undo()
    assert await r.publish_batch() == 2
    seen = await find_records(KAFKA, Probe.topic, lambda rec: headers_of(rec)["ce_id"] in ids, at_least=2)
    assert sorted(headers_of(rec)["ce_id"] for rec in seen) == sorted(ids)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite serialises its writers itself
async def test_one_relay_per_outbox_publishes_at_a_time_on_postgres(relay: Any) -> None:
    """Two instances of a service: while one relay holds the outbox's publishing lock, the other claims nothing
    (so no dossier's events overtake each other across instances); once it commits, the other publishes."""
    r, sessions, _ = relay
    ids = await stage(sessions, 2)
    async with sessions() as other, other.begin():  # the other instance, mid-round
        taken = text("SELECT pg_try_advisory_xact_lock(hashtext('onestop.outbox'), hashtext(:table))")
        assert (await other.execute(taken, {"table": outbox.name})).scalar_one()
        assert await r.publish_batch() == 0 and await unpublished(sessions) == 2
    assert await r.publish_batch() == 2
    seen = await find_records(KAFKA, Probe.topic, lambda rec: headers_of(rec)["ce_id"] in ids, at_least=2)
    assert [headers_of(rec)["ce_id"] for rec in seen] == ids
