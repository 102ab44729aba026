"""Smoke test: aiokafka 0.14 against the real local Kafka broker (deploy/local/kafka/kafka.sh).

Assumes the broker is already running (the Makefile starts it before pytest; by hand:
``deploy/local/kafka/kafka.sh start``). Bootstrap from ``ONESTOP_KAFKA_BOOTSTRAP``
(default ``localhost:9092``).

What it proves:
- the admin client creates (and deletes) a topic with 3 partitions;
- an idempotent producer sends keyed messages, same key -> same partition, in order;
- a consumer group with manual commits: a second consumer of the same group resumes after the
  committed offsets (nothing old, only the new message), although ``auto_offset_reset="earliest"``;
- one consume-transform-produce transaction with ``send_offsets_to_transaction``, seen by a
  ``read_committed`` consumer, plus an aborted transaction that it must not see.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import StaleLeaderEpochCodeError

pytestmark = pytest.mark.infra

BOOTSTRAP = os.environ.get("ONESTOP_KAFKA_BOOTSTRAP", "localhost:9092")
PARTITIONS = 3
STEP_TIMEOUT = 30.0  # seconds for any one broker round trip we wait on

TopicFactory = Callable[..., Awaitable[str]]


def _unique(prefix: str) -> str:
    return f"smoke.{prefix}.{uuid.uuid4().hex[:12]}"


def _broker_reachable() -> bool:
    host, _, port = BOOTSTRAP.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host or "localhost", int(port)), timeout=3):
            return True
    except OSError:
        return False


async def _consume(consumer: AIOKafkaConsumer, want: int, within_s: float = STEP_TIMEOUT) -> list:
    """Poll until ``want`` records arrived (or ``within_s`` passed); return them in arrival order."""
    got: list = []
    deadline = time.monotonic() + within_s
    while len(got) < want and time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=500)
        for records in batches.values():
            got.extend(records)
    return got


async def _drain(consumer: AIOKafkaConsumer, quiet_s: float = 2.0) -> list:
    """Read whatever else arrives within ``quiet_s`` seconds (to prove nothing unexpected comes)."""
    got: list = []
    deadline = time.monotonic() + quiet_s
    while time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=250)
        for records in batches.values():
            got.extend(records)
    return got


async def _wait_assigned(consumer: AIOKafkaConsumer, n: int, within_s: float = STEP_TIMEOUT) -> None:
    deadline = time.monotonic() + within_s
    while len(consumer.assignment()) < n:
        assert time.monotonic() < deadline, f"consumer got {consumer.assignment()} partitions, want {n}"
        await consumer.getmany(timeout_ms=200)  # drives the group join


@pytest.fixture
async def admin() -> AsyncIterator[AIOKafkaAdminClient]:
    if not _broker_reachable():
        pytest.fail(
            f"no Kafka broker at {BOOTSTRAP}; start it with `deploy/local/kafka/kafka.sh start` "
            "(or set ONESTOP_KAFKA_BOOTSTRAP)"
        )
    client = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=30000)
    await client.start()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def make_topic(admin: AIOKafkaAdminClient) -> AsyncIterator[TopicFactory]:
    """Creates uniquely named topics and deletes them (and checks they are gone) at teardown."""
    created: list[str] = []

    async def factory(prefix: str, partitions: int = PARTITIONS) -> str:
        name = _unique(prefix)
        resp = await admin.create_topics(
            [NewTopic(name=name, num_partitions=partitions, replication_factor=1)]
        )
        errors = {t[0]: t[1] for t in resp.topic_errors}
        assert errors == {name: 0}, f"create_topics failed: {resp}"
        created.append(name)
        # Wait until the metadata shows every partition with a leader.
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            [meta] = await admin.describe_topics([name])
            if (
                meta["error_code"] == 0
                and len(meta["partitions"]) == partitions
                and all(p["leader"] >= 0 for p in meta["partitions"])
            ):
                return name
            assert time.monotonic() < deadline, f"topic {name} not ready: {meta}"
            await asyncio.sleep(0.2)

    yield factory

    if created:
        resp = await admin.delete_topics(created)
        assert all(code == 0 for _, code, *_ in resp.topic_error_codes), f"delete_topics failed: {resp}"
        deadline = time.monotonic() + STEP_TIMEOUT
        while set(created) & set(await admin.list_topics()):
            assert time.monotonic() < deadline, f"topics not deleted: {created}"
            await asyncio.sleep(0.2)


async def test_admin_creates_topic_with_three_partitions(
    admin: AIOKafkaAdminClient, make_topic: TopicFactory
) -> None:
    name = await make_topic("admin")
    assert name in await admin.list_topics()
    [meta] = await admin.describe_topics([name])
    assert sorted(p["partition"] for p in meta["partitions"]) == [0, 1, 2]
    cluster = await admin.describe_cluster()
    assert len(cluster["brokers"]) == 1


async def test_idempotent_producer_and_manual_commit_resume(make_topic: TopicFactory) -> None:
    topic = await make_topic("commit")
    group = _unique("group")
    keys = [f"k{i}".encode() for i in range(6)]
    sent: dict[bytes, list[bytes]] = defaultdict(list)
    partition_of: dict[bytes, set[int]] = defaultdict(set)

    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, enable_idempotence=True)
    await producer.start()
    try:
        for i in range(30):
            key = keys[i % len(keys)]
            value = f"m{i}".encode()
            md = await asyncio.wait_for(producer.send_and_wait(topic, value, key=key), STEP_TIMEOUT)
            sent[key].append(value)
            partition_of[key].add(md.partition)
        # Same key -> same partition; with 6 keys over 3 partitions more than one partition is used.
        assert all(len(ps) == 1 for ps in partition_of.values()), partition_of
        assert len(set().union(*partition_of.values())) > 1

        # First consumer: reads everything from the beginning, commits by hand.
        c1 = AIOKafkaConsumer(
            topic,
            bootstrap_servers=BOOTSTRAP,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await c1.start()
        try:
            records = await _consume(c1, 30)
            assert len(records) == 30, f"got {len(records)} of 30 records"
            got: dict[bytes, list[bytes]] = defaultdict(list)
            for r in records:
                got[r.key].append(r.value)
            assert got == sent  # nothing lost or duplicated, per-key order kept
            assert await _drain(c1, 1.0) == []
            await c1.commit()
            tps = {TopicPartition(topic, p) for p in range(PARTITIONS)}
            end = await c1.end_offsets(list(tps))
            for tp in tps:
                assert await c1.committed(tp) == end[tp], tp
        finally:
            await c1.stop()

        # Second consumer, same group: must resume at the committed offsets although
        # auto_offset_reset="earliest" would replay everything if the commit were missing.
        c2 = AIOKafkaConsumer(
            topic,
            bootstrap_servers=BOOTSTRAP,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await c2.start()
        try:
            await _wait_assigned(c2, PARTITIONS)
            await asyncio.wait_for(producer.send_and_wait(topic, b"fresh", key=b"k0"), STEP_TIMEOUT)
            records = await _consume(c2, 1)
            records += await _drain(c2, 1.0)
            assert [(r.key, r.value) for r in records] == [(b"k0", b"fresh")]
        finally:
            await c2.stop()
    finally:
        await producer.stop()


async def test_transaction_with_send_offsets_and_read_committed(make_topic: TopicFactory) -> None:
    src = await make_topic("txn-in")
    dst = await make_topic("txn-out")
    group = _unique("txn-group")

    plain = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, enable_idempotence=True)
    txn = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, transactional_id=_unique("txn-id"))
    source = AIOKafkaConsumer(
        src,
        bootstrap_servers=BOOTSTRAP,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    sink = AIOKafkaConsumer(
        dst,
        bootstrap_servers=BOOTSTRAP,
        group_id=_unique("txn-sink"),
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await plain.start()
    await txn.start()
    await source.start()
    await sink.start()
    try:
        for i in range(5):
            await asyncio.wait_for(plain.send_and_wait(src, f"in{i}".encode(), key=b"a"), STEP_TIMEOUT)
        inputs = await _consume(source, 5)
        assert [r.value for r in inputs] == [f"in{i}".encode() for i in range(5)]

        # 1) An aborted transaction: its record must never reach a read_committed consumer.
        await txn.begin_transaction()
        await txn.send(dst, b"aborted", key=b"a")
        await asyncio.wait_for(txn.abort_transaction(), STEP_TIMEOUT)

        # 2) Consume-transform-produce: outputs + input offsets committed atomically.
        offsets = {}
        for r in inputs:
            offsets[TopicPartition(r.topic, r.partition)] = r.offset + 1
        try:
            async with txn.transaction():
                for r in inputs:
                    await txn.send(dst, r.value.replace(b"in", b"out"), key=r.key)
                await asyncio.wait_for(txn.send_offsets_to_transaction(offsets, group), STEP_TIMEOUT)
        except StaleLeaderEpochCodeError as exc:
            # aio-libs/aiokafka#1004: on brokers >= 3.7 TxnOffsetCommit may answer error 13
            # (NETWORK_EXCEPTION, named StaleLeaderEpochCodeError in aiokafka), which aiokafka
            # does not retry. Documented here as an expected failure, not hidden.
            pytest.xfail(f"aiokafka#1004 send_offsets_to_transaction failed: {exc!r}")

        outputs = await _consume(sink, 5)
        outputs += await _drain(sink, 2.0)
        assert [r.value for r in outputs] == [f"out{i}".encode() for i in range(5)]
        assert b"aborted" not in [r.value for r in outputs]

        # The group's offsets on the input topic came from the transaction, not from a commit().
        for tp, off in offsets.items():
            assert await source.committed(tp) == off, tp
    finally:
        await sink.stop()
        await source.stop()
        await txn.stop()
        await plain.stop()
