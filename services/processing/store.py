"""Processing's own tables and queries: cases (hồ sơ đang xử lý), their append-only event log, outbox, inbox.

A case is stored whole as `Case.to_dict()` in `data`; the columns beside it are copies for queries
(work queues, scoping, the deadline sweep) and are rewritten from the case on every save."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Index, or_, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.db.types import UTCDateTime
from libs.runtime import messaging_tables
from services.processing.domain import Case, CaseEvent, CaseState
from services.processing.domain.case_outcome import OVERDUE_FLAG


class Base(SQLModel, registry=registry()):
    pass


metadata = Base.metadata
messaging_tables(metadata, outbox=True, inbox=True)

# States the sweep looks at: the clock runs (2, 4), or a result hand-over may wait for acknowledgement (9).
WATCHED = (int(CaseState.RECEIVED), int(CaseState.PROCESSING), int(CaseState.RESULT_READY))
CLOCK_STATES = (int(CaseState.RECEIVED), int(CaseState.PROCESSING))


class ConcurrentUpdate(Exception):
    """The case changed since it was read (another officer or the sweep got there first)."""


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
    flags: list[str] = Field(default_factory=list, sa_type=JSON)
    version: int = 1  # optimistic concurrency: every save checks and bumps it
    event_seq: int = 0  # last `case_events.seq` of this case
    opened_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


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


def columns(case: Case) -> dict[str, Any]:
    """The query columns of a case, derived from the case itself."""
    handoff = case.pending_handoff
    return {
        "holder_agency": case.holder_agency,
        "state": int(case.state),
        "sub_state": case.sub_state.value if case.sub_state else None,
        "appointment_at": case.appointment_at,
        "ack_due_at": handoff.ack_due_at if handoff is not None and not case.state.is_terminal else None,
        "overdue": OVERDUE_FLAG in case.flags,
        "due_soon_warned": f"due_soon@{case.appointment_at.astimezone(UTC).isoformat()}" in case.flags,
        "ack_overdue_warned": handoff is not None and f"ack_overdue#{len(case.handoffs) - 1}" in case.flags,
        "extended": case.extended,
        "flags": sorted(case.flags),
        "closed_at": case.closed_at,
        "data": case.to_dict(),
    }


def new_row(case: Case, now: datetime, event_seq: int) -> CaseRow:
    return CaseRow(
        dossier_id=UUID(case.dossier_id), code=case.code, procedure_code=case.procedure.code,
        receiving_agency=case.receiving_agency, competent_agency=case.competent_agency,
        opened_at=now, updated_at=now, event_seq=event_seq, **columns(case),
    )


def _is_postgres(session: SAAsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def exists(session: AsyncSession, dossier_id: UUID) -> bool:
    query = select(CaseRow.dossier_id).where(CaseRow.dossier_id == dossier_id)
    return (await session.exec(query)).first() is not None


async def lock(session: AsyncSession, *, code: str | None = None, dossier_id: UUID | None = None) -> CaseRow | None:
    """Read one case for a change; on PostgreSQL the row stays locked until the transaction ends.

    Always re-read (populate_existing): a batch may change the same case twice in one session."""
    query = select(CaseRow).execution_options(populate_existing=True)
    query = query.where(CaseRow.code == code) if code is not None else query.where(CaseRow.dossier_id == dossier_id)
    if _is_postgres(session):
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def get(session: AsyncSession, code: str) -> CaseRow | None:
    return (await session.exec(select(CaseRow).where(CaseRow.code == code))).first()


async def save(session: AsyncSession, row: CaseRow, case: Case, now: datetime, event_seq: int) -> int:
    """Write the changed case back if nobody else did in between; returns the new version."""
    version = row.version
    result: Any = await session.execute(
        update(CaseRow)
        .where(col(CaseRow.dossier_id) == row.dossier_id, col(CaseRow.version) == version)
        .values(**columns(case), version=version + 1, updated_at=now, event_seq=event_seq)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise ConcurrentUpdate(f"case {row.code} was changed by someone else meanwhile; reload and try again")
    return version + 1


async def append_events(
    session: AsyncSession, dossier_id: UUID, first_seq: int, events: Sequence[tuple[CaseEvent, str]]
) -> int:
    """Append (event, ce_id) pairs after `first_seq`; returns the last sequence number written.

    (dossier_id, seq) is the primary key, so two writers that both read the same case cannot both append."""
    seq = first_seq
    for event, event_id in events:
        seq += 1
        session.add(CaseEventRow(
            dossier_id=dossier_id, seq=seq, event_id=event_id, type=event.type, at=event.at,
            actor=event.actor[:100], agency=event.agency, data=event.to_dict(),
        ))
    return seq


async def events_of(session: AsyncSession, dossier_id: UUID) -> list[CaseEventRow]:
    query = select(CaseEventRow).where(CaseEventRow.dossier_id == dossier_id).order_by(col(CaseEventRow.seq))
    return list((await session.exec(query)).all())


async def search(
    session: AsyncSession,
    agency: str,
    *,
    states: Sequence[int] = (),
    due_before: datetime | None = None,
    held_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[CaseRow]:
    """Cases `agency` holds (its work queue) or, unless `held_only`, received or is competent for."""
    if held_only:
        scope = col(CaseRow.holder_agency) == agency
    else:
        scope = or_(
            col(CaseRow.holder_agency) == agency,
            col(CaseRow.receiving_agency) == agency,
            col(CaseRow.competent_agency) == agency,
        )
    query = select(CaseRow).where(scope)
    if states:
        query = query.where(col(CaseRow.state).in_(list(states)))
    if due_before is not None:
        query = query.where(col(CaseRow.appointment_at) < due_before)
    query = query.order_by(col(CaseRow.appointment_at), col(CaseRow.dossier_id)).offset(offset).limit(limit)
    return list((await session.exec(query)).all())


async def sweep_page(
    session: AsyncSession,
    now: datetime,
    horizon: datetime,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[CaseRow]:
    """Open cases the sweep may have something to say about, in (appointment, id) order, locked.

    Candidates: the clock runs and the appointment is within the due-soon horizon and not yet flagged
    overdue, or a hand-over's acknowledgement time has passed. On PostgreSQL the page is locked with
    SKIP LOCKED, so two sweeping processes never check the same case at once and an officer's open
    transaction is never waited for (that case is seen by the next sweep)."""
    near = (
        col(CaseRow.state).in_(CLOCK_STATES)
        & (col(CaseRow.appointment_at) <= horizon)
        & col(CaseRow.overdue).is_(False)
        & (col(CaseRow.due_soon_warned).is_(False) | (col(CaseRow.appointment_at) < now))
    )
    unacknowledged = (col(CaseRow.ack_due_at) <= now) & col(CaseRow.ack_overdue_warned).is_(False)
    query = select(CaseRow).where(col(CaseRow.state).in_(WATCHED), or_(near, unacknowledged))
    if after is not None:
        query = query.where(tuple_(col(CaseRow.appointment_at), col(CaseRow.dossier_id)) > after)
    query = query.order_by(col(CaseRow.appointment_at), col(CaseRow.dossier_id)).limit(limit)
    if _is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return list((await session.exec(query)).all())
