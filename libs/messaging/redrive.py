"""Reading and re-driving a dead-letter topic (the operator's `onestop dlq …`), with plain aiokafka.

Reading uses no consumer group at all (manual assignment from the first offset), so looking never moves
anyone's offsets. A re-driven record goes back to its source topic with its original headers (same
`ce_id`): every consumer of that topic sees it again and the inboxes of those that applied it drop it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from faststream.security import BaseSecurity

from libs.messaging.dlq import Sealer, original_headers
from libs.messaging.security import client_options
from libs.observability.lag import partitions_of


class NoSuchTopic(LookupError):
    pass


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def ce_id(self) -> str:
        return self.headers.get("ce_id", "")

    @property
    def ce_type(self) -> str:
        return self.headers.get("ce_type", "")

    @property
    def error(self) -> str:
        return self.headers.get("dlq_error", "")

    @property
    def source_topic(self) -> str:
        return self.headers.get("dlq_source_topic", "")

    @property
    def source(self) -> str:
        h = self.headers
        return "/".join(h.get(f"dlq_source_{part}", "?") for part in ("topic", "partition", "offset"))


async def read_dead_letters(
    bootstrap: str, topic: str, limit: int | None = None, timeout: float = 60.0, security: BaseSecurity | None = None
) -> list[DeadLetter]:
    """Every record of `topic` present now, oldest failure first (at most `limit`)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="onestop-cli", **client_options(security))
    await admin.start()
    try:
        partitions = sorted(await partitions_of(admin, [topic]), key=lambda tp: tp.partition)
    finally:
        await admin.close()
    if not partitions:
        raise NoSuchTopic(topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                client_id="onestop-cli", **client_options(security))
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        letters: list[DeadLetter] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{topic}: could not read up to the end offsets within {timeout} s")
            batch = await consumer.getmany(*partitions, timeout_ms=1000)
            for tp, records in batch.items():
                letters += [
                    DeadLetter(tp.partition, r.offset, r.key, r.value or b"",
                               {k: v.decode(errors="replace") for k, v in r.headers})
                    for r in records if r.offset < end[tp]
                ]
        letters.sort(key=lambda d: (d.headers.get("dlq_failed_at", ""), d.partition, d.offset))  # oldest first
        return letters[:limit] if limit is not None else letters
    finally:
        await consumer.stop()


def latest_per_event(letters: Iterable[DeadLetter]) -> list[DeadLetter]:
    """One letter per ce_id (the last one): an event dead-lettered twice is re-driven once."""
    by_id: dict[str, DeadLetter] = {}
    for letter in letters:
        by_id[letter.ce_id or f"{letter.partition}:{letter.offset}"] = letter
    return list(by_id.values())


async def redrive(
    bootstrap: str, letters: Iterable[DeadLetter], security: BaseSecurity | None = None, sealer: Sealer | None = None
) -> list[DeadLetter]:
    """Publish each letter, opened (`sealer`: ONESTOP_DLQ_KEY's), to its source topic with its original headers;
    returns those sent."""
    sealer = sealer or Sealer()
    todo = [d for d in letters if d.source_topic]
    if not todo:
        return []
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, client_id="onestop-cli",
                                **client_options(security))
    await producer.start()
    try:
        for letter in todo:
            headers = [(k, v.encode()) for k, v in original_headers(letter.headers).items()]
            value = sealer.open(letter.value, letter.headers)
            await producer.send_and_wait(letter.source_topic, value=value, key=letter.key, headers=headers)
    finally:
        await producer.stop()
    return todo
