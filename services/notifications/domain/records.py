"""What notifications keeps, as plain values: a dossier's contact and state, a notice, a held notice, one
lifecycle step. The store reads and writes its tables as these (no ORM identity map or change tracking on
the hot paths); the planning and the delivery loop decide over them without a database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from services.notifications.domain.lifecycle import NoticeProgress, NoticeStatus


@dataclass(slots=True)
class Dossier:
    """A `contacts` row (its fields in the table's column order)."""

    dossier_id: UUID
    code: str
    full_name: str = ""
    phone: str | None = None
    email: str | None = None
    agency_name: str = ""
    dossier_state: str = "submitted"
    updated_at: datetime | None = None
    contact_known: bool = False
    receiving_agency: str = ""
    procedure_name: str = ""
    appointment_at: datetime | None = None
    rejection_reason: str | None = None
    state_at: datetime | None = None

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in DOSSIER_FIELDS}


DOSSIER_FIELDS = tuple(Dossier.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class Notice:
    """A `notices` row as read (or as written) by a unit of work."""

    id: UUID
    key: str
    dossier_id: UUID
    code: str
    event_id: str
    kind: str
    channel: str
    recipient: str
    status: str
    attempts: int = 0
    reason: str | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    context: dict[str, Any] = field(default_factory=dict)
    first_attempt_at: datetime | None = None
    provider_id: str | None = None
    trace: str | None = None  # W3C traceparent of the event that called for it, carried (not read) here


NOTICE_FIELDS = tuple(Notice.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class Held:
    """A `held_notices` row: a notice asked for before the dossier's contact was known."""

    event_id: str
    dossier_id: UUID
    kind: str
    extra: dict[str, Any]
    event_at: datetime
    created_at: datetime


HELD_FIELDS = tuple(Held.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class Step:
    """One lifecycle step of a notice, written only if the notice is still as it was read."""

    notice: Notice
    before: NoticeProgress
    after: NoticeProgress


def progress_of(row: Notice) -> NoticeProgress:
    return NoticeProgress(
        status=NoticeStatus(row.status), attempts=row.attempts, first_attempt_at=row.first_attempt_at,
        next_attempt_at=row.next_attempt_at, reason=row.reason or "", provider_id=row.provider_id,
    )
