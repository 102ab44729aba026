"""The deadline sweep's queries: which cases it reads (query columns only), a page of them locked, and the
version-checked write-back of the flags it raised."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic_core import to_json
from sqlalchemy import bindparam, or_, text, update
from sqlalchemy import case as sa_case
from sqlalchemy import select as core_select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.db import bulk
from libs.db.types import UTCDateTime
from services.processing.domain import CaseState, StepView, SubState, Watched
from services.processing.domain.serialise import handoff_from_dict
from services.processing.store.tables import CASES

# States the sweep looks at: the clock runs (2, 4), or a result hand-over may wait for acknowledgement (9).
WATCHED = (int(CaseState.RECEIVED), int(CaseState.PROCESSING), int(CaseState.RESULT_READY))
CLOCK_STATES = (int(CaseState.RECEIVED), int(CaseState.PROCESSING))


@dataclass(eq=False)
class Candidate:
    """A case the sweep reads: the deadline rules' view of it and what its write-back checks."""

    dossier_id: UUID
    watched: Watched
    version: int
    event_seq: int
    ack_overdue_warned: bool
    trace: str | None  # the case's traceparent: its warnings continue the dossier's trace


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
    left out. (SQLite's compiler leaves the FOR UPDATE clause out: its writers are serialised.) Only query
    columns are read; the stored hand-overs only of the cases whose acknowledgement is late."""
    c = CASES.c
    wanted, unacknowledged = _sweep_filter(now, horizon)
    query = core_select(
        c.dossier_id, c.code, c.state, c.sub_state, c.holder_agency, c.appointment_at, c.step_code, c.step_name,
        c.step_deadline, c.step_active, c.flags, c.version, c.event_seq, c.ack_overdue_warned, c.trace,
        sa_case((unacknowledged, c.data["handoffs"]), else_=None).label("handoffs"),
    ).where(c.dossier_id.in_(list(keys)), wanted).order_by(c.appointment_at, c.dossier_id)
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
    return Candidate(row.dossier_id, watched, row.version, row.event_seq, row.ack_overdue_warned, row.trace)


# The write-back is version-checked, which `libs.db.bulk.update_rows` is not: PostgreSQL gets its own
# fixed `unnest` statement (one for the page), the portable path the same UPDATE as an executemany.
Swept = tuple[Candidate, int, list[str], bool, bool, bool]  # (case, event_seq, flags, overdue, due soon, ack late)

_SWEPT_PG = text(
    """UPDATE cases SET flags = CAST(v.flags AS json), overdue = v.overdue, due_soon_warned = v.due_soon,
    ack_overdue_warned = v.ack, version = cases.version + 1, event_seq = v.event_seq, updated_at = :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:versions AS int[]), CAST(:seqs AS int[]), CAST(:flags AS text[]),
                CAST(:overdue AS boolean[]), CAST(:due_soon AS boolean[]), CAST(:ack AS boolean[]))
         AS v(id, version, event_seq, flags, overdue, due_soon, ack)
    WHERE cases.dossier_id = v.id AND cases.version = v.version
    RETURNING cases.dossier_id"""
).bindparams(bindparam("now", type_=UTCDateTime())).columns(CASES.c.dossier_id)

_SWEPT = (
    update(CASES)
    .where(CASES.c.dossier_id == bindparam("b_id"), CASES.c.version == bindparam("b_version"))
    .values(flags=bindparam("b_flags"), overdue=bindparam("b_overdue"), due_soon_warned=bindparam("b_due_soon"),
            ack_overdue_warned=bindparam("b_ack"), version=CASES.c.version + 1, event_seq=bindparam("b_seq"),
            updated_at=bindparam("b_now"))
)


async def _save_swept_pg(session: AsyncSession, values: list[Swept], now: datetime) -> set[UUID]:
    result: Any = await session.execute(_SWEPT_PG, {
        "now": now, "ids": [v[0].dossier_id for v in values], "versions": [v[0].version for v in values],
        "seqs": [v[1] for v in values], "flags": [to_json(v[2]).decode() for v in values],
        "overdue": [v[3] for v in values], "due_soon": [v[4] for v in values], "ack": [v[5] for v in values],
    })
    return {UUID(str(dossier_id)) for dossier_id in result.scalars()}


async def _save_swept_portable(session: AsyncSession, values: list[Swept], now: datetime) -> set[UUID]:
    """One UPDATE a case: which of them found its version unchanged is each statement's own row count
    (SQLite runs in-process, so a statement per case costs little; an executemany only sums the counts)."""
    conn = await session.connection()
    written = set()
    for v in values:
        result = await conn.execute(_SWEPT, {
            "b_id": v[0].dossier_id, "b_version": v[0].version, "b_seq": v[1], "b_flags": v[2],
            "b_overdue": v[3], "b_due_soon": v[4], "b_ack": v[5], "b_now": now})
        if result.rowcount:
            written.add(v[0].dossier_id)
    return written


_SAVE_SWEPT = bulk.Dialects(postgresql=_save_swept_pg, portable=_save_swept_portable)


async def save_swept(session: AsyncSession, swept: Sequence[tuple[Candidate, int]], now: datetime) -> set[UUID]:
    """Write back the flags the sweep raised, one statement for a page: (candidate, its new event_seq) pairs.
    Returns the dossiers written.

    Version-checked like `cases.save`: a case changed since the page was read (an officer or a consumer got
    there first) is left as it is — its warnings are not raised now, and the next sweep checks it again."""
    if not swept:
        return set()
    values: list[Swept] = []
    for cand, seq in swept:
        overdue, due_soon, ack = cand.watched.warned()
        # The hand-over is read only when late, so "already warned" stays as stored otherwise.
        values.append((cand, seq, sorted(cand.watched.flags), overdue, due_soon, ack or cand.ack_overdue_warned))
    written: set[UUID] = await _SAVE_SWEPT.of(session)(session, values, now)
    return written
