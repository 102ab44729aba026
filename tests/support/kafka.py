"""Reading and writing raw records in tests, with plain aiokafka (what any outside client would see)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord


def headers_of(record: ConsumerRecord) -> dict[str, str]:  # type: ignore[type-arg]
    return {k: v.decode() for k, v in record.headers}


async def find_records(
    bootstrap: str, topic: str, match: Callable[[ConsumerRecord], bool], timeout: float = 10.0,  # type: ignore[type-arg]
    at_least: int = 1,
) -> list[ConsumerRecord]:  # type: ignore[type-arg]
    """All records of `topic` from the start that `match`, once at least `at_least` were seen."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"test-{uuid.uuid4().hex}", auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[ConsumerRecord] = []  # type: ignore[type-arg]
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            found += [r for records in batch.values() for r in records if match(r)]
            if len(found) >= at_least and not batch:
                break
    finally:
        await consumer.stop()
    return found


async def publish_raw(bootstrap: str, topic: str, key: bytes | None, value: bytes, headers: dict[str, str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
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
