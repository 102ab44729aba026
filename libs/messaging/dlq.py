"""Dead letters: a poison event is parked on `onestop.dlq.<service>` with why and where it came from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from faststream.kafka import KafkaBroker

DLQ_HEADERS = ("dlq_error", "dlq_service", "dlq_source_topic", "dlq_source_partition", "dlq_source_offset")


def dead_letter_headers(
    original: dict[str, str], service: str, error: str, topic: str, partition: int, offset: int
) -> dict[str, str]:
    return {
        **original,
        "dlq_error": error[:2000],
        "dlq_service": service,
        "dlq_source_topic": topic,
        "dlq_source_partition": str(partition),
        "dlq_source_offset": str(offset),
        "dlq_failed_at": datetime.now(UTC).isoformat(),
    }


async def publish_dead_letter(
    broker: KafkaBroker, dlq_topic: str, record: Any, headers: dict[str, str], service: str, error: str
) -> None:
    """Publish and wait for the broker's acknowledgement, so the source offset may then be committed."""
    await broker.publish(
        record.value or b"",
        dlq_topic,
        key=record.key,
        headers=dead_letter_headers(headers, service, error, record.topic, record.partition, record.offset),
    )


def original_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers a re-driven record should carry again (the DLQ bookkeeping stripped)."""
    return {k: v for k, v in headers.items() if not k.startswith("dlq_")}
