"""CloudEvents 1.0 in Kafka binary mode: the value is the JSON payload, metadata in `ce_*` headers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from libs.contracts.base import Event, event_class

SPECVERSION = "1.0"
JSON = "application/json"


class ContractError(ValueError):
    """An incoming record that cannot be read as one of our events (a poison event)."""


@dataclass(frozen=True)
class Envelope:
    id: str
    source: str
    type: str
    time: datetime
    subject: str

    @classmethod
    def for_event(cls, event: Event, time: datetime, event_id: str | None = None) -> Envelope:
        return cls(
            id=event_id or str(uuid.uuid4()),
            source=event.source,
            type=event.ce_type,
            time=time.astimezone(UTC),
            subject=event.code,
        )

    def headers(self) -> dict[str, str]:
        return {
            "ce_specversion": SPECVERSION,
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_time": self.time.isoformat().replace("+00:00", "Z"),
            "ce_subject": self.subject,
            "content-type": JSON,
        }


def encode(event: Event) -> bytes:
    return event.model_dump_json().encode()


def _text(headers: dict[str, Any], name: str) -> str:
    raw = headers.get(name)
    if raw is None:
        raise ContractError(f"missing header {name}")
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def read_envelope(headers: dict[str, Any]) -> Envelope:
    """Parse the CloudEvents headers; a missing or malformed one is a contract error."""
    if _text(headers, "ce_specversion") != SPECVERSION:
        raise ContractError("unsupported ce_specversion")
    try:
        time = datetime.fromisoformat(_text(headers, "ce_time").replace("Z", "+00:00"))
    except ValueError as exc:
        raise ContractError(f"bad ce_time: {exc}") from exc
    return Envelope(
        id=_text(headers, "ce_id"),
        source=_text(headers, "ce_source"),
        type=_text(headers, "ce_type"),
        time=time,
        subject=headers.get("ce_subject", b"").decode() if isinstance(headers.get("ce_subject"), bytes)
        else str(headers.get("ce_subject", "")),
    )


def decode(envelope: Envelope, value: bytes) -> Event | None:
    """The typed event, or None when the type is unknown to this build (skipped, not failed)."""
    cls = event_class(envelope.type)
    if cls is None:
        return None
    try:
        return cls.model_validate_json(value)
    except ValidationError as exc:
        raise ContractError(f"{envelope.type} violates its contract: {exc}") from exc
