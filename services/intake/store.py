"""Intake's own tables: dossiers as received, the daily code sequences, and its outbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from libs.db.types import UTCDateTime
from libs.runtime import messaging_tables


class Base(SQLModel, registry=registry()):
    pass


metadata = Base.metadata
messaging_tables(metadata, outbox=True, inbox=True)


class DossierRow(Base, table=True):
    __tablename__ = "dossiers"

    id: UUID = Field(primary_key=True)
    code: str = Field(unique=True, max_length=64)
    receiving_agency: str = Field(index=True, max_length=40)
    procedure_code: str = Field(max_length=64)
    procedure_version: int
    channel: str = Field(max_length=20)
    state: str = Field(max_length=40)
    applicant_name: str = Field(max_length=200)
    personal_id: str = Field(max_length=12)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)
    received_at: datetime = Field(sa_type=UTCDateTime)
    appointment_at: datetime = Field(sa_type=UTCDateTime)
    idempotency_key: str | None = Field(default=None, unique=True, max_length=200)
    request_hash: str = Field(max_length=64)
    procedure: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    documents: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)


class DailySequence(Base, table=True):
    """Last dossier number given per agency and local day (the NNNN of the dossier code)."""

    __tablename__ = "daily_sequences"

    agency: str = Field(primary_key=True, max_length=40)
    day: date = Field(primary_key=True)
    last: int = 0


DAILY_SEQUENCES = DailySequence.__table__  # type: ignore[attr-defined]
