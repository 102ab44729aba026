"""Processing's tables: cases (hồ sơ đang xử lý), their append-only event log, and the outbox and inbox.

A case is stored whole as `Case.to_dict()` in `data`; the columns beside it are copies for queries
(work queues, scoping, the deadline sweep) and are rewritten from the case on every save.

One exception: the sweep's warning flags. The sweep reads only query columns (never `data`) and writes
back only `flags` and the warned booleans, a page of cases in one statement, so the `flags` column is the
truth for them: `cases.case_of` loads a case with the column's flags over the ones in `data`.

`metadata` is what the Alembic environment compares the migrations with: no table changes here without one."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Index, Table
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from libs.db.types import UTCDateTime
from libs.messaging.tables import inbox_table, outbox_table


class Base(SQLModel, registry=registry()):
    pass


metadata = Base.metadata
OUTBOX: Table = outbox_table(metadata)
INBOX: Table = inbox_table(metadata)


class CaseRow(Base, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_state_appointment", "state", "appointment_at"),
        Index("ix_cases_holder_appointment", "holder_agency", "appointment_at"),
    )

    dossier_id: UUID = Field(primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    procedure_code: str = Field(max_length=64)
    receiving_agency: str = Field(index=True, max_length=40)
    competent_agency: str = Field(index=True, max_length=40)
    holder_agency: str = Field(max_length=40)
    state: int = Field(index=True)  # DVCQG code 1–10
    sub_state: str | None = Field(default=None, max_length=40)
    appointment_at: datetime = Field(sa_type=UTCDateTime)
    ack_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)  # pending hand-over
    overdue: bool = Field(default=False, index=True)
    # "Due soon" already raised for the current appointment: the sweep's candidate query skips such a case
    # until its appointment passes, instead of re-reading it every round.
    due_soon_warned: bool = False
    ack_overdue_warned: bool = False  # likewise for the pending hand-over's late acknowledgement
    extended: bool = False
    # The current step, as the sweep's events name it (so the sweep never reads `data`).
    step_code: str | None = Field(default=None, max_length=64)
    step_name: str | None = None
    step_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    step_active: bool = False
    flags: list[str] = Field(default_factory=list, sa_type=JSON)
    version: int = 1  # optimistic concurrency: every save checks and bumps it
    # The last change an officer made through an action (the sweep's and the consumers' writes leave these):
    # the version it produced, and {types, role, agency, at} to tell another officer what changed, by whom.
    officer_version: int | None = None
    officer_change: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    event_seq: int = 0  # last `case_events.seq` of this case
    opened_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # W3C traceparent of the receipt that opened the case: the sweep's warnings continue the dossier's trace.
    trace: str | None = Field(default=None, max_length=64)
    # The signed result file the competent agency attached (`AttachedResult.to_dict()`: its manifest entry,
    # who, which agency, when); what a work queue shows of it without reading `data`.
    result_file: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class CaseEventRow(Base, table=True):
    """Append-only: every domain event of a case as `CaseEvent.to_dict()`, in order (the slip's source)."""

    __tablename__ = "case_events"

    dossier_id: UUID = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    event_id: str = Field(max_length=64)  # ce_id of the event published for it
    type: str = Field(max_length=80)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=100)
    agency: str = Field(max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


CASES: Table = CaseRow.__table__  # type: ignore[attr-defined]
EVENTS: Table = CaseEventRow.__table__  # type: ignore[attr-defined]
