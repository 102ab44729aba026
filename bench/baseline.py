"""The broker path alone: raw aiokafka consume → produce of N same-size events (what the pipeline is
compared with)."""

from __future__ import annotations

import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


async def kafka_roundtrip(bootstrap: str, n: int, size: int) -> dict[str, float]:
    src, dst = f"bench-src-{uuid.uuid4().hex[:8]}", f"bench-dst-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(src, 6, 1), NewTopic(dst, 6, 1)])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5)
    await producer.start()
    payload = b"x" * size
    try:
        for i in range(n):
            await producer.send(src, payload, key=str(i).encode())
        await producer.flush()
        consumer = AIOKafkaConsumer(src, bootstrap_servers=bootstrap, group_id=f"bench-{uuid.uuid4().hex}",
                                    auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        t0, moved = time.perf_counter(), 0
        while moved < n:
            batch = await consumer.getmany(timeout_ms=1000, max_records=1000)
            for records in batch.values():
                for r in records:
                    await producer.send(dst, r.value, key=r.key)
                    moved += 1
            await consumer.commit()
        await producer.flush()
        elapsed = time.perf_counter() - t0
        await consumer.stop()
    finally:
        await producer.stop()
        await admin.delete_topics([src, dst])
        await admin.close()
    return {"events": n, "seconds": elapsed, "events_per_s": n / elapsed}
