"""Processing's own tables: cases (hồ sơ đang xử lý), plus its outbox and inbox."""

from __future__ import annotations

from datetime import datetime
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


class CaseRow(Base, table=True):
    __tablename__ = "cases"

    dossier_id: UUID = Field(primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    procedure_code: str = Field(max_length=64)
    receiving_agency: str = Field(index=True, max_length=40)
    competent_agency: str = Field(index=True, max_length=40)
    holder_agency: str = Field(index=True, max_length=40)
    state: str = Field(index=True, max_length=40)
    appointment_at: datetime = Field(sa_type=UTCDateTime)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
