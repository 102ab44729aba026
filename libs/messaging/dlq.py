"""Dead letters: a poison event is parked on `onestop.dlq.<service>` with why and where it came from.

Its body is the event as it came, personal data included, and a dead-letter topic is read by operators and
kept for weeks: the body is sealed (Fernet: AES-CBC with an HMAC, from `cryptography`) with the suite's
`ONESTOP_DLQ_KEY`, and only `onestop dlq redrive` opens it, to send it back. The error text is masked too
(a validation error may quote the value it refused)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet
from faststream.kafka import KafkaBroker

from libs.observability import mask_pii
from libs.settings import DEVELOPMENT_DLQ_KEY

DLQ_HEADERS = ("dlq_error", "dlq_service", "dlq_source_topic", "dlq_source_partition", "dlq_source_offset")
SEALED = "dlq_sealed"  # header: the body is a Fernet token of the original value


class Sealer:
    """Seals and opens dead-letter bodies with one Fernet key (urlsafe base64 of 32 bytes)."""

    def __init__(self, key: str = DEVELOPMENT_DLQ_KEY) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, value: bytes) -> bytes:
        return self._fernet.encrypt(value)

    def open(self, body: bytes, headers: dict[str, str]) -> bytes:
        """The original value of a dead letter (bodies parked before sealing existed pass as they are)."""
        return self._fernet.decrypt(body) if headers.get(SEALED) == "fernet" else body


def dead_letter_headers(
    original: dict[str, str], service: str, error: str, topic: str, partition: int, offset: int
) -> dict[str, str]:
    return {
        **original,
        "dlq_error": mask_pii(error[:2000]),
        "dlq_service": service,
        "dlq_source_topic": topic,
        "dlq_source_partition": str(partition),
        "dlq_source_offset": str(offset),
        "dlq_failed_at": datetime.now(UTC).isoformat(),
    }


async def publish_dead_letter(
    broker: KafkaBroker, dlq_topic: str, record: Any, headers: dict[str, str], service: str, error: str,
    sealer: Sealer,
) -> None:
    """Publish and wait for the broker's acknowledgement, so the source offset may then be committed."""
    parked = dead_letter_headers(headers, service, error, record.topic, record.partition, record.offset)
    await broker.publish(
        sealer.seal(record.value or b""), dlq_topic, key=record.key, headers={**parked, SEALED: "fernet"},
    )


def original_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers a re-driven record should carry again (the DLQ bookkeeping stripped)."""
    return {k: v for k, v in headers.items() if not k.startswith("dlq_")}
