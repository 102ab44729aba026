"""Cases: open them (a consumer batch's receipts), change them (an officer's action, an event from the desk)
and show them. Load, call the domain, save version-checked, stage the events.

Every change is one transaction: the case row (version-checked, row-locked on PostgreSQL), the appended
`case_events` rows and the outbox rows commit together or not at all."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.auth import ROLES, Officer
from libs.calendar import WorkCalendar
from libs.clock import Clock
from libs.contracts.intake import DossierReceived
from libs.messaging import Outbox
from libs.observability import current_traceparent
from services.processing import store, views
from services.processing.actions import Acknowledge, _Action
from services.processing.domain import Case, CaseEvent, DomainError, can_act
from services.processing.metrics import ProcessingMetrics
from services.processing.staging import Staged
from services.processing.store import CaseRow

Command = Callable[[Case, datetime], list[CaseEvent]]


class CaseNotFound(Exception):
    """No such case, or one the officer's agency has no part in (the same answer, so nothing leaks)."""


class ActionForbidden(Exception):
    """The officer's agency or roles may not take this action on this case."""


class ChangedByAnotherOfficer(Exception):
    """Another officer changed the case after the version this officer's action was decided on."""

    def __init__(self, code: str, seen: int, change: store.OfficerChange) -> None:
        at = change.at[:16].replace("T", " ")
        super().__init__(
            f"case {code} was changed after you loaded it (version {seen}): {', '.join(change.types)} by a "
            f"{change.role} of {change.agency} at {at}; reload and try again")
        self.change = change


ATTEMPTS = 5  # decisions of one action at most, when background writes keep landing between read and save


def _check_seen(row: CaseRow, seen_version: int | None) -> None:
    """Refuse an action decided on a version older than an officer's change since; background changes pass."""
    if seen_version is None or seen_version >= row.version:
        return
    change = store.officer_change(row)
    if change is not None and change.version > seen_version:
        raise ChangedByAnotherOfficer(row.code, seen_version, change)


def visible_to(row: CaseRow, agency: str) -> bool:
    return agency in (row.holder_agency, row.receiving_agency, row.competent_agency)


def effective_roles(officer: Officer) -> frozenset[str]:
    """An admin holds every role (as in `Officer.has`), still only within its own agency."""
    return ROLES if "admin" in officer.roles else officer.roles


@dataclass(eq=False, slots=True)
class Opening:
    """A case opened from a receipt, not written yet: its row, its events and what they stage."""

    row: dict[str, Any]  # the `cases` row
    events: list[CaseEvent]
    staged: Staged

    @property
    def dossier_id(self) -> UUID:
        dossier_id: UUID = self.row["dossier_id"]
        return dossier_id


@dataclass(eq=False)
class Cases:
    sessions: async_sessionmaker[Any]
    clock: Clock
    calendar: WorkCalendar
    outbox: Outbox
    metrics: ProcessingMetrics

    def load(self, row: CaseRow) -> Case:
        return store.case_of(row, self.calendar)

    # --- reading -------------------------------------------------------------------------------

    async def view(self, code: str, agency: str) -> dict[str, Any]:
        async with self.sessions() as session:
            row = await store.get(session, code)
            if row is None or not visible_to(row, agency):
                raise CaseNotFound(code)
            return views.detail(row, self.load(row), await store.events_of(session, row.dossier_id))

    async def search(self, agency: str, **filters: Any) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            return [views.summary(row) for row in await store.search(session, agency, **filters)]

    # --- officers ------------------------------------------------------------------------------

    async def act(self, code: str, officer: Officer, action: _Action) -> dict[str, Any]:
        """Check, run and persist one officer action; any refusal leaves the case untouched.

        The action is decided on the case as it is when the transaction reads it. Where a background writer
        (the sweep, a consumer) saves the case between that read and our save — possible on SQLite, which
        holds no row lock meanwhile — the action is decided again on the fresh case, up to `ATTEMPTS` times:
        the system's own work never reaches an officer as a conflict (issue 18)."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await self._act_once(code, officer, action)
            except store.ConcurrentUpdate:
                if attempt == ATTEMPTS:
                    raise
                self.metrics.redecided.inc()
        raise AssertionError("unreachable")

    async def _act_once(self, code: str, officer: Officer, action: _Action) -> dict[str, Any]:
        async with self.sessions() as session, session.begin():
            row = await store.lock(session, code=code)
            if row is None or not visible_to(row, officer.agency):
                raise CaseNotFound(code)
            _check_seen(row, action.seen_version)
            case = self.load(row)
            # "Nothing waits for acknowledgement" is a state conflict (the command's own reason), not a 403.
            if not (isinstance(action, Acknowledge) and case.pending_handoff is None):
                permission = can_act(case, action.domain, officer.agency, effective_roles(officer),
                                     officer=officer.sub)
                if not permission:
                    raise ActionForbidden(permission.reason)
            now = self.clock.now()
            events = action.run(case, officer.sub, now)
            change = store.OfficerChange(row.version + 1, [e.type for e in events],
                                         "+".join(sorted(officer.roles)), officer.agency, now.isoformat())
            await self._persist(session, row, case, events, now, change)
            await session.refresh(row)
            view = views.detail(row, case, await store.events_of(session, row.dossier_id))
        self.committed(events)
        return view

    # --- events from the desk (in the consumer's transaction: handlers.py) ---------------------

    def opening(self, event: DossierReceived) -> Opening:
        """The case a receipt opens, with its event log and outbox rows (staged now, so they carry the trace
        context current here); a DomainError refuses the receipt."""
        now = self.clock.now()
        procedure = event.procedure
        case, events = Case.open(
            dossier_id=str(event.dossier_id), code=event.code, procedure=procedure.model_dump(mode="json"),
            receiving_agency=event.receiving_agency, received_at=event.received_at, now=now,
            calendar=self.calendar, competent_agency=procedure.competent_agency,
            appointment_at=event.appointment_at,
        )
        staged = Staged(now)
        staged.add_all(event.dossier_id, 0, events)
        return Opening(store.new_values(case, now, event_seq=len(events), trace=current_traceparent()), events, staged)

    async def open(self, session: AsyncSession, openings: Sequence[Opening]) -> list[CaseEvent]:
        """Write the cases of a batch's receipts: the first receipt of each dossier opens its case unless one
        is stored already (a re-sent receipt), and only the cases inserted get their event log and outbox
        rows. Three statements for the batch: the cases, their event log, their outbox rows."""
        first: dict[UUID, Opening] = {}
        for opening in openings:
            first.setdefault(opening.dossier_id, opening)
        if not first:
            return []
        inserted = await store.insert_cases(session, [opening.row for opening in first.values()])
        staged, events = Staged(openings[0].staged.now), list[CaseEvent]()  # its `now` is not used by `extend`
        for opening in first.values():
            if str(opening.dossier_id) in inserted:
                staged.extend(opening.staged)
                events += opening.events
        await staged.write(session, self.outbox.table)
        return events

    async def apply(self, session: AsyncSession, dossier_id: UUID, command: Command) -> list[CaseEvent]:
        """Run a desk-relayed command on a stored case; a DomainError propagates (the consumer dead-letters
        the event)."""
        row = await store.lock(session, dossier_id=dossier_id)
        if row is None:
            raise DomainError(f"no case for dossier {dossier_id}: its receipt was never processed")
        case = self.load(row)
        now = self.clock.now()
        events = command(case, now)
        await self._persist(session, row, case, events, now)
        return events

    # --- persistence ---------------------------------------------------------------------------

    async def _persist(
        self, session: AsyncSession, row: CaseRow, case: Case, events: list[CaseEvent], now: datetime,
        by_officer: store.OfficerChange | None = None,
    ) -> None:
        first = row.event_seq  # read before the save: the version check comes first, then the appends
        await store.save(session, row, case, now, event_seq=first + len(events), by_officer=by_officer)
        staged = Staged(now)
        staged.add_all(row.dossier_id, first, events)
        await staged.write(session, self.outbox.table)

    def committed(self, events: list[CaseEvent]) -> None:
        """After the commit: count the events and wake the relay (the consumer wakes it after a batch)."""
        if events:
            self.metrics.count(events)
            self.outbox.wake()
