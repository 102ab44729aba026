"""Notifications' own tables: what it knows of each dossier (contact, state), notices and their delivery
state, notices held until the contact is known; and the shared outbox/inbox (the metadata the migrations use)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import JSON, Index, Table, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from libs.db.types import UTCDateTime
from libs.runtime import messaging_tables
from services.notifications.domain import NoticeStatus
from services.notifications.domain.records import DOSSIER_FIELDS, HELD_FIELDS, NOTICE_FIELDS


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


_PENDING = text("status IN ('created', 'temporary_failure')")


class NoticeRow(Base, table=True):
    __tablename__ = "notices"
    # The delivery claim's index: only notices that may still go out, in the claim's order. Over all rows
    # (status, next_attempt_at), PostgreSQL read the whole table for each claim (4–9 ms at 20,000 dossiers,
    # growing): a notice's `created` entry outlives it until vacuum.
    __table_args__ = (Index("ix_notices_pending", "created_at", postgresql_where=_PENDING, sqlite_where=_PENDING),)

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
    trace: str | None = Field(default=None, max_length=64)  # the causing event's traceparent (for its outcome)


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
HELD: Table = HeldNoticeRow.__table__  # type: ignore[attr-defined]
OUTBOX: Table = metadata.tables["outbox"]
OPEN = (NoticeStatus.CREATED.value, NoticeStatus.TEMPORARY_FAILURE.value)  # may still be sent or expired
INBOX: Table = metadata.tables["inbox"]

CONTACT_COLUMNS = tuple(c.name for c in CONTACTS.columns)
NOTICE_COLUMNS = tuple(c.name for c in NOTICES.columns)
assert DOSSIER_FIELDS == CONTACT_COLUMNS, "Dossier mirrors the contacts table, in order"
assert set(NOTICE_FIELDS) == set(NOTICE_COLUMNS), "Notice mirrors the notices table"
assert set(HELD_FIELDS) == {c.name for c in HELD.columns}, "Held mirrors the held_notices table"
