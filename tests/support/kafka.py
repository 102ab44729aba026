"""Reading and writing raw records in tests, with plain aiokafka (what any outside client would see)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from libs.observability.lag import partitions_of

# When this test run began (a minute of slack for clocks): what `find_records` reads from.
SINCE_MS = int(time.time() * 1000) - 60_000


def headers_of(record: ConsumerRecord) -> dict[str, str]:  # type: ignore[type-arg]
    return {k: v.decode() for k, v in record.headers}


async def find_records(
    bootstrap: str, topic: str, match: Callable[[ConsumerRecord], bool], timeout: float = 10.0,  # type: ignore[type-arg]
    at_least: int = 1, security: dict[str, Any] | None = None,
) -> list[ConsumerRecord]:  # type: ignore[type-arg]
    """All records of `topic` written since this test run began (SINCE_MS) that `match`, once at least
    `at_least` were seen. Not from the start of the topic: a developer's test broker keeps every earlier run's
    records (hundreds of MB after the benchmarks), and reading them all outlasts any timeout.
    `security`: aiokafka's connection options (libs.messaging.security.client_options); default PLAINTEXT."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                **(security or {}))
    await consumer.start()
    found: list[ConsumerRecord] = []  # type: ignore[type-arg]
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        if not await _assign_since(consumer, bootstrap, topic, deadline, security):
            return found
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            found += [r for records in batch.values() for r in records if match(r)]
            if len(found) >= at_least and not batch:
                break
    finally:
        await consumer.stop()
    return found


async def _assign_since(
    consumer: AIOKafkaConsumer, bootstrap: str, topic: str, deadline: float, security: dict[str, Any] | None
) -> bool:
    """Assign every partition of `topic`, each at its first record since SINCE_MS; False when the topic does
    not exist by the deadline (then it has no records to find)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **(security or {}))
    await admin.start()
    try:
        while not (tps := sorted(await partitions_of(admin, [topic]), key=lambda tp: tp.partition)):
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
    consumer.assign(tps)
    found = await consumer.offsets_for_times(dict.fromkeys(tps, SINCE_MS))
    end = await consumer.end_offsets(tps)
    for tp in tps:
        consumer.seek(tp, found[tp].offset if found[tp] is not None else end[tp])
    return True


async def publish_raw(bootstrap: str, topic: str, key: bytes | None, value: bytes, headers: dict[str, str],
                      security: dict[str, Any] | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, **(security or {}))
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key, headers=[(k, v.encode()) for k, v in headers.items()])
    finally:
        await producer.stop()


async def start_groups_at_end(bootstrap: str, groups: dict[str, tuple[str, ...]]) -> None:
    """Commit each new consumer group at the current end of its topics, so a fresh stack (fresh databases)
    starts from now instead of replaying every earlier test run's events from the shared topics."""
    from aiokafka.structs import TopicPartition

    from libs.messaging import ensure_topics

    names = sorted({t for ts in groups.values() for t in ts})
    await ensure_topics(bootstrap, names, 6, 1)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await probe.start()
    try:
        tps = [TopicPartition(t, p) for t in names for p in sorted(probe.partitions_for_topic(t) or ())]
        if len(tps) < len(names):  # metadata not loaded yet for some topic
            await probe._client.force_metadata_update()
            tps = [TopicPartition(t, p) for t in names for p in sorted(probe.partitions_for_topic(t) or ())]
        ends = await probe.end_offsets(tps)
    finally:
        await probe.stop()
    for group, wanted in groups.items():
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            mine = [tp for tp in tps if tp.topic in wanted]
            consumer.assign(mine)
            await consumer.commit({tp: ends[tp] for tp in mine})
        finally:
            await consumer.stop()
