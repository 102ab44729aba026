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
