"""Processing's own tables and queries: cases (hồ sơ đang xử lý), their append-only event log, outbox, inbox.

A case is stored whole as `Case.to_dict()` in `data`; the columns beside it are copies for queries
(work queues, scoping, the deadline sweep) and are rewritten from the case on every save.

One exception: the sweep's warning flags. The sweep reads only query columns (never `data`) and writes
back only `flags` and the warned booleans, a page of cases in one statement, so the `flags` column is the
truth for them: `case_of` loads a case with the column's flags over the ones in `data`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic_core import to_json
from sqlalchemy import JSON, Connection, Index, Table, bindparam, or_, text, update
from sqlalchemy import case as sa_case
from sqlalchemy import select as core_select
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.calendar import WorkCalendar
from libs.db.sql import pg_array, pg_value
from libs.db.types import UTCDateTime
from libs.runtime import messaging_tables
from services.processing.domain import Case, CaseEvent, CaseState, StepView, SubState, Watched
from services.processing.domain.serialise import handoff_from_dict


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
    # The current step, as the sweep's events name it (so the sweep never reads `data`).
    step_code: str | None = Field(default=None, max_length=64)
    step_name: str | None = None
    step_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    step_active: bool = False
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


CASES: Table = CaseRow.__table__  # type: ignore[attr-defined]
EVENTS: Table = CaseEventRow.__table__  # type: ignore[attr-defined]


def columns(case: Case) -> dict[str, Any]:
    """The query columns of a case, derived from the case itself."""
    handoff = case.pending_handoff
    overdue, due_soon_warned, ack_overdue_warned = case.watched().warned()
    step = case.current_step
    return {
        "holder_agency": case.holder_agency,
        "state": int(case.state),
        "sub_state": case.sub_state.value if case.sub_state else None,
        "appointment_at": case.appointment_at,
        "ack_due_at": handoff.ack_due_at if handoff is not None and not case.state.is_terminal else None,
        "overdue": overdue,
        "due_soon_warned": due_soon_warned,
        "ack_overdue_warned": ack_overdue_warned,
        "step_code": step.code if step else None,
        "step_name": step.name if step else None,
        "step_deadline": step.deadline if step else None,
        "step_active": case.active_step is not None,
        "extended": case.extended,
        "flags": sorted(case.flags),
        "closed_at": case.closed_at,
        "data": case.to_dict(),
    }


def new_values(case: Case, now: datetime, event_seq: int) -> dict[str, Any]:
    """Every column of a new case's row (for `insert_cases`)."""
    return {
        "dossier_id": UUID(case.dossier_id), "code": case.code, "procedure_code": case.procedure.code,
        "receiving_agency": case.receiving_agency, "competent_agency": case.competent_agency,
        "opened_at": now, "updated_at": now, "version": 1, "event_seq": event_seq, **columns(case),
    }


def new_row(case: Case, now: datetime, event_seq: int) -> CaseRow:
    """The ORM row of a new case (for tools that add cases one at a time, e.g. bench/sweep.py)."""
    return CaseRow(**new_values(case, now, event_seq))


def case_of(row: CaseRow, calendar: WorkCalendar) -> Case:
    """The stored case; its warning flags come from the `flags` column (the sweep writes only that)."""
    return Case.from_dict({**row.data, "flags": row.flags}, calendar)


def _json(value: Any) -> str:
    """JSON text of plain data for a `json` parameter (pydantic-core's encoder: a few times faster than json.dumps)."""
    return to_json(value).decode()


def _is_postgres(session: SAAsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def lock(session: AsyncSession, *, code: str | None = None, dossier_id: UUID | None = None) -> CaseRow | None:
    """Read one case for a change; on PostgreSQL the row stays locked until the transaction ends.

    Always re-read (populate_existing): a batch may change the same case twice in one session."""
    query = _LOCK[code is not None, _is_postgres(session)]
    return (await session.exec(query, params={"key": code if code is not None else dossier_id})).first()


def _lock_query(by_code: bool, postgres: bool) -> Any:
    key = col(CaseRow.code) if by_code else col(CaseRow.dossier_id)
    query = select(CaseRow).where(key == bindparam("key")).execution_options(populate_existing=True)
    return query.with_for_update() if postgres else query


# Built once: (by code, on PostgreSQL) → the query.
_LOCK = {(by_code, postgres): _lock_query(by_code, postgres) for by_code in (True, False) for postgres in (True, False)}


async def get(session: AsyncSession, code: str) -> CaseRow | None:
    return (await session.exec(select(CaseRow).where(CaseRow.code == code))).first()


# The query columns (`columns`) and the bookkeeping ones; built once, bound per save.
_SAVED = (
    "holder_agency", "state", "sub_state", "appointment_at", "ack_due_at", "overdue", "due_soon_warned",
    "ack_overdue_warned", "step_code", "step_name", "step_deadline", "step_active", "extended", "flags",
    "closed_at", "data", "updated_at", "event_seq",
)
_SAVE = (
    update(CASES)
    .where(CASES.c.dossier_id == bindparam("b_id"), CASES.c.version == bindparam("b_version"))
    .values({**{name: bindparam(f"b_{name}") for name in _SAVED}, "version": CASES.c.version + 1})
)


async def save(session: AsyncSession, row: CaseRow, case: Case, now: datetime, event_seq: int) -> int:
    """Write the changed case back if nobody else did in between; returns the new version."""
    version = row.version
    params = {f"b_{name}": value for name, value in columns(case).items()}
    params.update(b_id=row.dossier_id, b_version=version, b_updated_at=now, b_event_seq=event_seq)
    result: Any = await session.execute(_SAVE, params)
    if result.rowcount != 1:
        raise ConcurrentUpdate(f"case {row.code} was changed by someone else meanwhile; reload and try again")
    return version + 1


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


@dataclass(eq=False)
class Candidate:
    """A case the sweep reads: the deadline rules' view of it and what its write-back checks."""

    dossier_id: UUID
    watched: Watched
    version: int
    event_seq: int
    ack_overdue_warned: bool


def _sweep_filter(now: datetime, horizon: datetime) -> tuple[Any, Any]:
    """(which cases the sweep reads, when their stored hand-overs must be read too)."""
    c = CASES.c
    near = (
        c.state.in_(CLOCK_STATES)
        & (c.appointment_at <= horizon)
        & c.overdue.is_(False)
        & (c.due_soon_warned.is_(False) | (c.appointment_at < now))
    )
    unacknowledged = (c.ack_due_at <= now) & c.ack_overdue_warned.is_(False)
    return c.state.in_(WATCHED) & or_(near, unacknowledged), unacknowledged


async def sweep_keys(session: AsyncSession, now: datetime, horizon: datetime) -> list[UUID]:
    """Open cases the sweep may have something to say about, in (appointment, id) order (not locked).

    Candidates: the clock runs and the appointment is within the due-soon horizon and not yet flagged
    overdue, or a hand-over's acknowledgement time has passed. One query for the whole sweep: the pages
    are then read by key (`sweep_page`), not by re-running and re-sorting this query once a page."""
    wanted, _ = _sweep_filter(now, horizon)
    query = core_select(CASES.c.dossier_id).where(wanted).order_by(CASES.c.appointment_at, CASES.c.dossier_id)
    return list((await session.execute(query)).scalars())


async def sweep_page(session: AsyncSession, now: datetime, horizon: datetime, keys: Sequence[UUID]) -> list[Candidate]:
    """Those of `keys` that are still candidates, locked, in (appointment, id) order.

    On PostgreSQL the page is locked with SKIP LOCKED, so two sweeping processes never check the same case
    at once and an officer's open transaction is never waited for (that case is seen by the next sweep);
    the candidate test is re-checked on the row as locked, so a case another process has just warned is
    left out. Only query columns are read; the stored hand-overs only of the cases whose acknowledgement
    is late."""
    c = CASES.c
    wanted, unacknowledged = _sweep_filter(now, horizon)
    query = core_select(
        c.dossier_id, c.code, c.state, c.sub_state, c.holder_agency, c.appointment_at, c.step_code, c.step_name,
        c.step_deadline, c.step_active, c.flags, c.version, c.event_seq, c.ack_overdue_warned,
        sa_case((unacknowledged, c.data["handoffs"]), else_=None).label("handoffs"),
    ).where(c.dossier_id.in_(list(keys)), wanted).order_by(c.appointment_at, c.dossier_id)
    if _is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return [_candidate(row) for row in (await session.execute(query)).all()]


def _candidate(row: Any) -> Candidate:
    handoffs = row.handoffs or []
    last = handoff_from_dict(handoffs[-1]) if handoffs else None
    step = StepView(row.step_code, row.step_name or "", row.step_deadline) if row.step_code is not None else None
    watched = Watched(
        dossier_id=str(row.dossier_id), code=row.code, state=CaseState(row.state),
        sub_state=SubState(row.sub_state) if row.sub_state else None, holder_agency=row.holder_agency,
        appointment_at=row.appointment_at, step=step, step_active=row.step_active,
        handoff=last if last is not None and last.pending else None, handoff_no=len(handoffs) - 1,
        flags=set(row.flags),
    )
    return Candidate(row.dossier_id, watched, row.version, row.event_seq, row.ack_overdue_warned)


_SWEPT_PG = text(
    """UPDATE cases SET flags = CAST(v.flags AS json), overdue = v.overdue, due_soon_warned = v.due_soon,
    ack_overdue_warned = v.ack, version = cases.version + 1, event_seq = v.event_seq, updated_at = :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:versions AS int[]), CAST(:seqs AS int[]), CAST(:flags AS text[]),
                CAST(:overdue AS boolean[]), CAST(:due_soon AS boolean[]), CAST(:ack AS boolean[]))
         AS v(id, version, event_seq, flags, overdue, due_soon, ack)
    WHERE cases.dossier_id = v.id AND cases.version = v.version"""
).bindparams(bindparam("now", type_=UTCDateTime()))

_SWEPT = (
    update(CASES)
    .where(CASES.c.dossier_id == bindparam("b_id"), CASES.c.version == bindparam("b_version"))
    .values(flags=bindparam("b_flags"), overdue=bindparam("b_overdue"), due_soon_warned=bindparam("b_due_soon"),
            ack_overdue_warned=bindparam("b_ack"), version=CASES.c.version + 1, event_seq=bindparam("b_seq"),
            updated_at=bindparam("b_now"))
)


async def save_swept(session: AsyncSession, swept: Sequence[tuple[Candidate, int]], now: datetime) -> None:
    """Write back the flags the sweep raised, one statement for a page: (candidate, its new event_seq) pairs.

    Version-checked like `save`: if any case changed since the page was read, nothing of the page is kept."""
    if not swept:
        return
    values = []
    for cand, seq in swept:
        overdue, due_soon, ack = cand.watched.warned()
        # The hand-over is read only when late, so "already warned" stays as stored otherwise.
        values.append((cand, seq, sorted(cand.watched.flags), overdue, due_soon, ack or cand.ack_overdue_warned))
    if _is_postgres(session):
        result: Any = await session.execute(_SWEPT_PG, {
            "now": now, "ids": [v[0].dossier_id for v in values], "versions": [v[0].version for v in values],
            "seqs": [v[1] for v in values], "flags": [_json(v[2]) for v in values],
            "overdue": [v[3] for v in values], "due_soon": [v[4] for v in values], "ack": [v[5] for v in values],
        })
    else:
        conn = await session.connection()
        result = await conn.execute(_SWEPT, [
            {"b_id": v[0].dossier_id, "b_version": v[0].version, "b_seq": v[1], "b_flags": v[2],
             "b_overdue": v[3], "b_due_soon": v[4], "b_ack": v[5], "b_now": now}
            for v in values
        ])
    if result.rowcount != len(values):
        raise ConcurrentUpdate("cases of the sweep's page were changed meanwhile; the next sweep checks them again")


def event_row(dossier_id: UUID, seq: int, event_id: str, event: CaseEvent, data: dict[str, Any]) -> dict[str, Any]:
    """A `case_events` row (for `insert_events`); `data` is `event.to_dict()`."""
    return {"dossier_id": dossier_id, "seq": seq, "event_id": event_id, "type": event.type, "at": event.at,
            "actor": event.actor[:100], "agency": event.agency, "data": data}


_EVENTS_PG = text(
    """INSERT INTO case_events (dossier_id, seq, event_id, type, at, actor, agency, data)
    SELECT v.dossier_id, v.seq, v.event_id, v.type, v.at, v.actor, v.agency, CAST(v.data AS json)
    FROM unnest(CAST(:dossier_id AS uuid[]), CAST(:seq AS int[]), CAST(:event_id AS text[]),
                CAST(:type AS text[]), CAST(:at AS timestamptz[]), CAST(:actor AS text[]),
                CAST(:agency AS text[]), CAST(:data AS text[]))
         AS v(dossier_id, seq, event_id, type, at, actor, agency, data)"""
)


async def insert_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Append many `case_events` rows in one statement ((dossier_id, seq) keeps two writers apart)."""
    if not rows:
        return
    if _is_postgres(session) and len(rows) > 1:
        await session.execute(_EVENTS_PG, _events_params(rows))
    else:
        await session.execute(EVENTS.insert(), list(rows))


def _events_params(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        **{name: [r[name] for r in rows] for name in ("dossier_id", "seq", "event_id", "type", "actor", "agency")},
        "at": [r["at"].astimezone(UTC) for r in rows], "data": [_json(r["data"]) for r in rows],
    }


_OUTBOX_PG = text(
    """INSERT INTO outbox (event_id, event_type, topic, key, headers, payload, created_at)
    SELECT v.event_id, v.event_type, v.topic, v.key, CAST(v.headers AS json), v.payload, v.created_at
    FROM unnest(CAST(:event_id AS text[]), CAST(:event_type AS text[]), CAST(:topic AS text[]),
                CAST(:key AS text[]), CAST(:headers AS text[]), CAST(:payload AS text[]),
                CAST(:created_at AS timestamptz[]))
         AS v(event_id, event_type, topic, key, headers, payload, created_at)"""
)


async def insert_outbox(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Stage many outbox rows (as `libs.messaging.enqueue` writes them) in one statement."""
    if not rows:
        return
    if _is_postgres(session) and len(rows) > 1 and table.name == "outbox":
        await session.execute(_OUTBOX_PG, _outbox_params(rows))
    else:
        await session.execute(table.insert(), list(rows))


_OUTBOX_NAMES = ("event_id", "event_type", "topic", "key", "payload", "created_at")


def _outbox_params(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {**{name: [r[name] for r in rows] for name in _OUTBOX_NAMES},
            "headers": [_json(r["headers"]) for r in rows]}


# --- new cases, a consumer batch at a time (synchronous: run inside the commit) ----------------------------

_CASE_NAMES = tuple(c.name for c in CASES.columns)
_JSON_NAMES = frozenset({"flags", "data"})


# One fixed statement for a whole batch of new cases on PostgreSQL (prepared once); the dossiers that
# already have a case are left alone, and RETURNING names the ones inserted.
_OPEN_PG = text(
    f"""INSERT INTO cases ({", ".join(_CASE_NAMES)})
    SELECT {", ".join(pg_value(f"v.{n}", CASES.c[n]) for n in _CASE_NAMES)}
    FROM unnest({", ".join(pg_array(n, CASES.c[n]) for n in _CASE_NAMES)}) AS v({", ".join(_CASE_NAMES)})
    ON CONFLICT (dossier_id) DO NOTHING
    RETURNING dossier_id"""
)
_EXISTING = core_select(CASES.c.dossier_id).where(CASES.c.dossier_id.in_(bindparam("ids", expanding=True)))


def insert_cases(conn: Connection, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert new cases (`new_values` rows, one per dossier) unless their dossier has one already; returns
    the dossier ids (as text) of the cases inserted. One statement on PostgreSQL.

    Elsewhere (SQLite, whose writers are serialised) the existing ones are read first and the rest inserted
    with executemany: a case inserted meanwhile fails the commit rather than being opened twice."""
    if not rows:
        return set()
    if conn.dialect.name == "postgresql":
        ordered = sorted(rows, key=lambda r: r["dossier_id"])  # the same lock order in every process
        params: dict[str, Any] = {}
        for name in _CASE_NAMES:
            if name in _JSON_NAMES:
                params[name] = [_json(r[name]) for r in ordered]
            else:
                params[name] = [r[name] for r in ordered]
        return {str(dossier_id) for dossier_id in conn.execute(_OPEN_PG, params).scalars()}
    existing = {str(dossier_id) for dossier_id in
                conn.execute(_EXISTING, {"ids": [r["dossier_id"] for r in rows]}).scalars()}
    new = [r for r in rows if str(r["dossier_id"]) not in existing]
    if new:
        conn.execute(CASES.insert(), new)
    return {str(r["dossier_id"]) for r in new}


def append_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """`insert_events` inside a commit: one statement on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(_EVENTS_PG, _events_params(rows))
    else:
        conn.execute(EVENTS.insert(), list(rows))


def stage_outbox(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """`insert_outbox` inside a commit: one statement on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name == "postgresql" and table.name == "outbox":
        conn.execute(_OUTBOX_PG, _outbox_params(rows))
    else:
        conn.execute(table.insert(), list(rows))
