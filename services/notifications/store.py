"""Notifications' own tables: contacts per dossier, notices (thông báo) and their delivery state."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from libs.db.types import UTCDateTime
from libs.runtime import messaging_tables


class Base(SQLModel, registry=registry()):
    pass


metadata = Base.metadata
messaging_tables(metadata, outbox=True, inbox=True)


class ContactRow(Base, table=True):
    """How to reach the applicant of one dossier; only this service keeps it."""

    __tablename__ = "contacts"

    dossier_id: UUID = Field(primary_key=True)
    code: str = Field(index=True, max_length=64)
    full_name: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)
    agency_name: str = Field(default="", max_length=200)
    dossier_state: str = Field(default="received", max_length=40)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class NoticeRow(Base, table=True):
    __tablename__ = "notices"

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
    updated_at: datetime = Field(sa_type=UTCDateTime)
