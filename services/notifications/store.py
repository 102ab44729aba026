"""Notifications' own tables: what it knows of each dossier (contact, state), notices and their delivery state."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import JSON, Index, Table, update
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.db.types import UTCDateTime
from libs.runtime import messaging_tables
from services.notifications.domain import NoticeProgress, NoticeStatus


class Base(SQLModel, registry=registry()):
    pass


metadata = Base.metadata
messaging_tables(metadata, outbox=True, inbox=True)


class ContactRow(Base, table=True):
    """One row per dossier: how to reach the applicant (only this service keeps it) and the dossier's
    latest state as far as notifications knows it. A processing event that arrives before the dossier's
    receipt creates the row without a contact (`contact_known` false); its notices wait in `held_notices`."""

    __tablename__ = "contacts"

    dossier_id: UUID = Field(primary_key=True)
    code: str = Field(index=True, max_length=64)
    full_name: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)
    agency_name: str = Field(default="", max_length=200)
    dossier_state: str = Field(default="received", max_length=40)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    contact_known: bool = True
    receiving_agency: str = Field(default="", index=True, max_length=64)  # officer scoping
    procedure_name: str = Field(default="", max_length=300)
    appointment_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rejection_reason: str | None = Field(default=None, max_length=1000)
    state_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # time of the event that set the state


class NoticeRow(Base, table=True):
    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_due", "status", "next_attempt_at"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    key: str = Field(unique=True, max_length=200)  # (dossier, event id, channel): never sent twice
    dossier_id: UUID = Field(index=True)
    code: str = Field(index=True, max_length=64)
    event_id: str = Field(max_length=64)
    kind: str = Field(max_length=40)
    channel: str = Field(max_length=10)
    recipient: str = Field(max_length=254)
    status: str = Field(index=True, max_length=30)
    attempts: int = 0
    reason: str | None = Field(default=None, max_length=1000)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)  # in `sending`: when the attempt started
    context: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # template variables (NoticeContext)
    first_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    provider_id: str | None = Field(default=None, max_length=200)


class HeldNoticeRow(Base, table=True):
    """A notice an event asked for before the dossier's contact was known (events of two topics may be
    read out of order); turned into notices when DossierReceived / DossierRefused arrives."""

    __tablename__ = "held_notices"

    event_id: str = Field(primary_key=True, max_length=64)
    dossier_id: UUID = Field(index=True)
    kind: str = Field(max_length=40)
    extra: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # kind-specific template variables
    event_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


CONTACTS: Table = ContactRow.__table__  # type: ignore[attr-defined]
NOTICES: Table = NoticeRow.__table__  # type: ignore[attr-defined]


def progress_of(row: NoticeRow) -> NoticeProgress:
    return NoticeProgress(
        status=NoticeStatus(row.status), attempts=row.attempts, first_attempt_at=row.first_attempt_at,
        next_attempt_at=row.next_attempt_at, reason=row.reason or "", provider_id=row.provider_id,
    )


async def save_progress(
    session: AsyncSession, notice_id: UUID, before: NoticeProgress, after: NoticeProgress, now: datetime
) -> bool:
    """Write a lifecycle step only if the notice is still as it was read (status and attempts): a
    concurrent step (sweeper, consumer, another replica) is never overwritten. True when written."""
    stmt = (
        update(NoticeRow)
        .where(
            col(NoticeRow.id) == notice_id,
            col(NoticeRow.status) == before.status.value,
            col(NoticeRow.attempts) == before.attempts,
        )
        .values(
            status=after.status.value, attempts=after.attempts, first_attempt_at=after.first_attempt_at,
            next_attempt_at=after.next_attempt_at, reason=after.reason[:1000] or None,
            provider_id=(after.provider_id or None) and after.provider_id[:200], updated_at=now,
        )
    )
    result = await session.exec(stmt)
    return bool(result.rowcount)
