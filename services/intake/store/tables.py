"""Intake's own tables: dossiers as received (and as they stand at the desk), their history, desk
supplement requests, the daily code sequences, the scans of their papers and their signed results (documents),
online submissions waiting for the desk's check, and the outbox/inbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
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
    appointment_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # none when refused
    idempotency_key: str | None = Field(default=None, unique=True, max_length=200)
    request_hash: str = Field(max_length=64)
    procedure: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    documents: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    # --- who received it, and where it stands at the desk (mirrors processing's events) ---
    received_by: str | None = Field(default=None, max_length=100)
    received_by_name: str | None = Field(default=None, max_length=200)
    refusal_reason: str | None = Field(default=None, max_length=2000)
    sub_state: str | None = Field(default=None, max_length=40)
    current_step: str | None = Field(default=None, max_length=300)
    result_at_desk: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    electronic_result: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    supplement_submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    handover_method: str | None = Field(default=None, max_length=20)
    handed_over_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rating: int | None = None
    rating_comment: str | None = Field(default=None, max_length=1000)
    rated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DossierHistoryRow(Base, table=True):
    """Every event of a dossier: processing's (the process-control slip, Form 02/04 data), the desk's and each
    scan's `document.added` (its SHA-256), chained: `seq`, `prev_hash`, `hash` (domain/chain.py; none on entries
    written before the chain existed)."""

    __tablename__ = "dossier_history"
    __table_args__ = (sa.Index("ix_dossier_history_chain", "dossier_id", "seq", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: UUID = Field(index=True)
    event_id: str = Field(unique=True, max_length=64)  # ce_id
    event_type: str = Field(max_length=120)  # ce_type
    source: str = Field(max_length=40)  # /onestop/processing or /onestop/intake
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=100)
    agency: str = Field(max_length=40)
    state: int | None = None  # DVCQG code after the event
    sub_state: str | None = Field(default=None, max_length=40)
    handover: bool = False  # a row of the process-control slip
    receiver: str | None = Field(default=None, max_length=100)
    receiver_agency: str | None = Field(default=None, max_length=40)
    step_code: str | None = Field(default=None, max_length=64)
    step_name: str | None = Field(default=None, max_length=300)
    step_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    timeliness: str | None = Field(default=None, max_length=20)
    note: str = Field(default="", max_length=2000)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # the whole event payload
    seq: int | None = None  # place in the dossier's chain: 1, 2, …
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)  # SHA-256 hex of the entry's content and prev_hash


class PaperRequestRow(Base, table=True):
    """Form 02 issued at the counter before acceptance: papers missing, no dossier enters the workflow."""

    __tablename__ = "paper_requests"

    id: UUID = Field(primary_key=True)
    agency: str = Field(index=True, max_length=40)
    officer: str = Field(max_length=100)
    officer_name: str = Field(max_length=200)
    procedure_code: str = Field(max_length=64)
    procedure_name: str = Field(max_length=500)
    channel: str = Field(max_length=20)
    applicant_name: str = Field(max_length=200)
    items: list[str] = Field(default_factory=list, sa_type=JSON)
    reason: str = Field(max_length=2000)
    issued_at: datetime = Field(sa_type=UTCDateTime)


class SubmissionRow(Base, table=True):
    """A dossier filed online, waiting for the desk's check (docs/domain.md §5.2; domain/submissions.py). Its id is
    the id of the dossier it becomes, so files uploaded to it (documents.dossier_id) need not move. The upload token
    is an HMAC of the id and is never stored."""

    __tablename__ = "submissions"

    id: UUID = Field(primary_key=True)
    receiving_agency: str = Field(index=True, max_length=40)
    procedure_code: str = Field(max_length=64)
    procedure_version: int  # in force at submission: its checklist names the uploads
    procedure_name: str = Field(max_length=500)
    applicant_name: str = Field(max_length=200)
    personal_id: str = Field(max_length=12)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)
    documents: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)  # the declared papers
    online_payment: bool | None = None
    state: str = Field(index=True, max_length=20)  # awaiting_check | accepted | refused
    submitter: str = Field(max_length=100)  # citizen | portal:<sub>
    idempotency_key: str = Field(unique=True, max_length=200)
    request_hash: str = Field(max_length=64)
    submitted_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=100)
    refusal_reason: str | None = Field(default=None, max_length=1000)
    dossier_code: str | None = Field(default=None, max_length=64)


class DocumentRow(Base, table=True):
    """One scan of a dossier's paper (issue 17), or the competent agency's signed result (`kind` result, item 0): a
    reference to a content-addressed object of the document store. `dossier_id` may name an online submission
    still waiting for the desk's check (the dossier it becomes takes the same id).

    The object is written first and this row committed after, so a row never points at a missing object; the
    sweep removes objects no row references (services/intake/documents.py). `file_name` is data only: sanitised,
    never a path, never logged."""

    __tablename__ = "documents"
    __table_args__ = (sa.UniqueConstraint("dossier_id", "idempotency_key", name="uq_documents_dossier_key"),)

    id: UUID = Field(primary_key=True)
    dossier_id: UUID = Field(index=True)
    checklist_item: int
    item_name: str = Field(default="", max_length=500)
    key: str = Field(index=True, max_length=80)  # sha256/ab/<64 hex>
    sha256: str = Field(max_length=64)
    size: int = Field(sa_type=sa.BigInteger)
    media_type: str = Field(max_length=40)
    pages: int | None = None
    digitisation: int  # libs.contracts.common.Digitisation
    reused_from: UUID | None = None
    file_name: str | None = Field(default=None, max_length=255)
    uploaded_by: str = Field(max_length=100)
    uploaded_at: datetime = Field(sa_type=UTCDateTime)
    idempotency_key: str = Field(max_length=200)
    announced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # carried by an event's manifest
    kind: str = Field(default="paper", max_length=10,  # libs.contracts.common.DocumentKind
                      sa_column_kwargs={"server_default": "paper"})


class DailySequence(Base, table=True):
    """Last dossier number given per agency and local day (the NNNN of the dossier code)."""

    __tablename__ = "daily_sequences"

    agency: str = Field(primary_key=True, max_length=40)
    day: date = Field(primary_key=True)
    last: int = 0


DAILY_SEQUENCES = DailySequence.__table__  # type: ignore[attr-defined]
DOSSIERS = DossierRow.__table__  # type: ignore[attr-defined]
HISTORY = DossierHistoryRow.__table__  # type: ignore[attr-defined]
DOCUMENTS = DocumentRow.__table__  # type: ignore[attr-defined]
SUBMISSIONS = SubmissionRow.__table__  # type: ignore[attr-defined]
OUTBOX = metadata.tables["outbox"]
INBOX = metadata.tables["inbox"]
