"""Reporting's read model: one fact row per dossier plus daily rollups, rebuilt from the event log."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from libs.db.types import UTCDateTime
from libs.runtime import messaging_tables


class Base(SQLModel, registry=registry()):
    pass


metadata = Base.metadata
messaging_tables(metadata, outbox=False, inbox=True)


class FactRecord(Base, table=True):
    __tablename__ = "facts"

    dossier_id: UUID = Field(primary_key=True)
    code: str = Field(index=True, max_length=64)
    receiving_agency: str = Field(index=True, max_length=40)
    competent_agency: str = Field(index=True, max_length=40)
    procedure_code: str = Field(max_length=64)
    procedure_name: str = Field(max_length=400)
    field: str = Field(max_length=200)
    level: str = Field(max_length=10)
    channel: str = Field(max_length=20)
    online_level: str = Field(max_length=10)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)
    appointment_at: datetime = Field(sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=20)
    documents_total: int = 0
    documents_digitised: int = 0


class ReceivedDaily(Base, table=True):
    """Rollup: dossiers received per agency, day (local) and channel."""

    __tablename__ = "received_daily"

    agency: str = Field(primary_key=True, max_length=40)
    day: date = Field(primary_key=True)
    channel: str = Field(primary_key=True, max_length=20)
    count: int = 0


RECEIVED_DAILY = ReceivedDaily.__table__  # type: ignore[attr-defined]
