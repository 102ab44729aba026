"""Cases: their query columns, load, lock, the version-checked save, the work-queue search, and the INSERT
of a batch's new cases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.calendar import WorkCalendar
from libs.db import bulk
from services.processing.domain import Case
from services.processing.store.tables import CASES, CaseRow


class ConcurrentUpdate(Exception):
    """The case changed between its read and its save (on SQLite, which holds no row lock meanwhile)."""


@dataclass(frozen=True)
class OfficerChange:
    """An officer's action as the case row remembers it: what it did, as which role of which agency, when."""

    version: int  # the case version the action produced
    types: list[str]
    role: str
    agency: str
    at: str

    def stored(self) -> dict[str, Any]:
        return {"types": self.types, "role": self.role, "agency": self.agency, "at": self.at}


def officer_change(row: CaseRow) -> OfficerChange | None:
    """The last officer action saved on this case, if any."""
    if row.officer_version is None or not row.officer_change:
        return None
    return OfficerChange(row.officer_version, **row.officer_change)


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
        "result_file": case.result_file.to_dict() if case.result_file else None,
        "data": case.to_dict(),
    }


def new_values(case: Case, now: datetime, event_seq: int, trace: str | None = None) -> dict[str, Any]:
    """Every column of a new case's row (for `insert_cases`); `trace`: the opening receipt's traceparent."""
    return {
        "dossier_id": UUID(case.dossier_id), "code": case.code, "procedure_code": case.procedure.code,
        "receiving_agency": case.receiving_agency, "competent_agency": case.competent_agency,
        "opened_at": now, "updated_at": now, "version": 1, "event_seq": event_seq, **columns(case),
        "officer_version": None, "officer_change": None,  # opened from the desk's event: no officer yet
        "trace": trace,
    }


def new_row(case: Case, now: datetime, event_seq: int) -> CaseRow:
    """The ORM row of a new case (for tools that add cases one at a time, e.g. bench/sweep.py)."""
    return CaseRow(**new_values(case, now, event_seq))


def case_of(row: CaseRow, calendar: WorkCalendar) -> Case:
    """The stored case; its warning flags come from the `flags` column (the sweep writes only that)."""
    return Case.from_dict({**row.data, "flags": row.flags}, calendar)


async def insert_cases(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert new cases (`new_values` rows, one per dossier) unless their dossier has one already; returns
    the dossier ids (as text) of the cases inserted. One statement.

    Only the dossier is the conflict: a case code another dossier has fails the statement (the consumer
    then dead-letters that receipt). The rows go in dossier order: the same lock order in every process."""
    ordered = sorted(rows, key=lambda r: r["dossier_id"])
    inserted = await bulk.ainsert_rows(session, CASES, ordered, skip_existing="dossier_id", returning="dossier_id")
    return {str(dossier_id) for dossier_id in inserted}


# Built once: by code or by dossier. FOR UPDATE holds the row on PostgreSQL until the transaction ends;
# SQLite's compiler leaves the clause out (its writers are serialised; the version check still holds).
def _lock_query(by_code: bool) -> Any:
    key = col(CaseRow.code) if by_code else col(CaseRow.dossier_id)
    return (select(CaseRow).where(key == bindparam("key")).with_for_update()
            .execution_options(populate_existing=True))


_LOCK = {by_code: _lock_query(by_code) for by_code in (True, False)}


async def lock(session: AsyncSession, *, code: str | None = None, dossier_id: UUID | None = None) -> CaseRow | None:
    """Read one case for a change; on PostgreSQL the row stays locked until the transaction ends.

    Always re-read (populate_existing): a batch may change the same case twice in one session."""
    query = _LOCK[code is not None]
    return (await session.exec(query, params={"key": code if code is not None else dossier_id})).first()


async def get(session: AsyncSession, code: str) -> CaseRow | None:
    return (await session.exec(select(CaseRow).where(CaseRow.code == code))).first()


# The query columns (`columns`) and the bookkeeping ones; built once, bound per save.
_SAVED = (
    "holder_agency", "state", "sub_state", "appointment_at", "ack_due_at", "overdue", "due_soon_warned",
    "ack_overdue_warned", "step_code", "step_name", "step_deadline", "step_active", "extended", "flags",
    "closed_at", "result_file", "data", "updated_at", "event_seq",
)
_OFFICER = ("officer_version", "officer_change")


def _save_statement(names: tuple[str, ...]) -> Any:
    return (update(CASES)
            .where(CASES.c.dossier_id == bindparam("b_id"), CASES.c.version == bindparam("b_version"))
            .values({**{name: bindparam(f"b_{name}") for name in names}, "version": CASES.c.version + 1}))


_SAVE = _save_statement(_SAVED)  # the system's own writes (consumers): the last officer change stays
_SAVE_BY_OFFICER = _save_statement(_SAVED + _OFFICER)


async def save(session: AsyncSession, row: CaseRow, case: Case, now: datetime, event_seq: int,
               by_officer: OfficerChange | None = None) -> int:
    """Write the changed case back if nobody else did in between; returns the new version. `by_officer`
    records the change as an officer's (its `version` is set here)."""
    version = row.version
    params = {f"b_{name}": value for name, value in columns(case).items()}
    params.update(b_id=row.dossier_id, b_version=version, b_updated_at=now, b_event_seq=event_seq)
    if by_officer is not None:
        params.update(b_officer_version=version + 1, b_officer_change=by_officer.stored())
    result: Any = await session.execute(_SAVE if by_officer is None else _SAVE_BY_OFFICER, params)
    if result.rowcount != 1:
        raise ConcurrentUpdate(f"case {row.code} was changed by someone else meanwhile; reload and try again")
    return version + 1


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
