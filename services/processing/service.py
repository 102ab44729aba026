"""Service layer of processing: load a case, run one domain command, persist it with its events and outbox rows.

Every change is one transaction: the case row (version-checked, row-locked on PostgreSQL), the appended
`case_events` rows and the outbox rows commit together or not at all."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from prometheus_client import Counter
from sqlalchemy import Connection, Table
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from libs.auth import ROLES, Officer
from libs.calendar import WorkCalendar
from libs.contracts import REGISTRY
from libs.contracts.intake import DossierReceived
from libs.contracts.processing import contract_type
from libs.messaging import outbox_row
from libs.runtime import Runtime
from services.processing import store, views
from services.processing.actions import Acknowledge, _Action
from services.processing.domain import Case, CaseEvent, DomainError, can_act
from services.processing.settings import ProcessingSettings
from services.processing.store import AsyncSession, CaseRow

log = logging.getLogger(__name__)

Command = Callable[[Case, datetime], list[CaseEvent]]


class CaseNotFound(Exception):
    """No such case, or one the officer's agency has no part in (the same answer, so nothing leaks)."""


class ActionForbidden(Exception):
    """The officer's agency or roles may not take this action on this case."""


def visible_to(row: CaseRow, agency: str) -> bool:
    return agency in (row.holder_agency, row.receiving_agency, row.competent_agency)


def effective_roles(officer: Officer) -> frozenset[str]:
    """An admin holds every role (as in `Officer.has`), still only within its own agency."""
    return ROLES if "admin" in officer.roles else officer.roles


@dataclass
class Workflow:
    rt: Runtime
    calendar: WorkCalendar
    settings: ProcessingSettings
    events_total: Counter

    # --- reading -------------------------------------------------------------------------------

    def load(self, row: CaseRow) -> Case:
        return store.case_of(row, self.calendar)

    async def view(self, code: str, agency: str) -> dict[str, Any]:
        async with self.rt.sessions() as session:
            row = await store.get(session, code)
            if row is None or not visible_to(row, agency):
                raise CaseNotFound(code)
            return views.detail(row, self.load(row), await store.events_of(session, row.dossier_id))

    async def search(self, agency: str, **filters: Any) -> list[dict[str, Any]]:
        async with self.rt.sessions() as session:
            return [views.summary(row) for row in await store.search(session, agency, **filters)]

    # --- officers ------------------------------------------------------------------------------

    async def act(self, code: str, officer: Officer, action: _Action) -> dict[str, Any]:
        """Check, run and persist one officer action; any refusal leaves the case untouched."""
        async with self.rt.sessions() as session, session.begin():
            row = await store.lock(session, code=code)
            if row is None or not visible_to(row, officer.agency):
                raise CaseNotFound(code)
            case = self.load(row)
            # "Nothing waits for acknowledgement" is a state conflict (409 from the command), not a 403.
            if not (isinstance(action, Acknowledge) and case.pending_handoff is None):
                permission = can_act(case, action.domain, officer.agency, effective_roles(officer))
                if not permission:
                    raise ActionForbidden(permission.reason)
            now = self.rt.clock.now()
            events = action.run(case, officer.sub, now)
            await self._persist(session, row, case, events, now)
            await session.refresh(row)
            view = views.detail(row, case, await store.events_of(session, row.dossier_id))
        self._committed(events)
        return view

    # --- events from the desk (called inside the consumer's transaction) -----------------------

    async def open_case(self, session: AsyncSession, event: DossierReceived) -> None:
        """Open the case of a received dossier, in the caller's transaction; nothing when it is open already
        (a re-sent receipt).

        The consumer calls this once per receipt of a batch: the case is built (and refused, if the domain
        refuses it, so the consumer dead-letters that event alone) and its rows collected; the batch's cases
        are written just before the transaction commits (`_Openings.write`): one INSERT of the new cases,
        skipping the dossiers that have one, then one of their event log rows and one of their outbox rows."""
        now = self.rt.clock.now()
        procedure = event.procedure
        case, events = Case.open(
            dossier_id=str(event.dossier_id), code=event.code, procedure=procedure.model_dump(mode="json"),
            receiving_agency=event.receiving_agency, received_at=event.received_at, now=now,
            calendar=self.calendar, competent_agency=procedure.competent_agency,
            appointment_at=event.appointment_at,
        )
        dossier_id = event.dossier_id
        staged = _Staging(self.rt.outbox, now)  # here, not at commit: the outbox rows carry this event's trace
        log_rows = []
        for seq, domain_event in enumerate(events, 1):
            data = domain_event.to_dict()
            log_rows.append(store.event_row(dossier_id, seq, staged.add(domain_event, data), domain_event, data))
        _Openings.of(session, self).items.append(
            _Opening(store.new_values(case, now, event_seq=len(events)), log_rows, staged.rows, events)
        )

    async def apply(self, session: AsyncSession, dossier_id: UUID, command: Command) -> list[CaseEvent]:
        """Run a desk-relayed command; a DomainError propagates (the consumer dead-letters the event)."""
        await _Openings.flush(session)  # a case opened earlier in this transaction is written by now
        row = await store.lock(session, dossier_id=dossier_id)
        if row is None:
            raise DomainError(f"no case for dossier {dossier_id}: its receipt was never processed")
        case = self.load(row)
        now = self.rt.clock.now()
        events = command(case, now)
        await self._persist(session, row, case, events, now)
        self._count(events)
        return events

    # --- the deadline sweep ----------------------------------------------------------------------

    async def run_sweeps(self) -> None:
        """A Runtime loop: sweep every `sweep_seconds`; a failed sweep is logged and simply runs again."""
        while True:
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("deadline sweep failed; will run again")
            await asyncio.sleep(self.settings.sweep_seconds)

    async def sweep_once(self) -> list[CaseEvent]:
        """Check every open case near its deadline (or with an unacknowledged hand-over), a page at a time.

        Flags and events commit together, so a warning is raised once however often (or in however many
        processes) the sweep runs; a crash before the commit only means the next sweep raises it."""
        now = self.rt.clock.now()
        horizon = self.calendar.add_working_hours(now, self.settings.due_soon_hours) + timedelta(days=1)
        async with self.rt.sessions() as session:
            keys = await store.sweep_keys(session, now, horizon)
        raised: list[CaseEvent] = []
        size = self.settings.sweep_page_size
        for start in range(0, len(keys), size):
            async with self.rt.sessions() as session, session.begin():
                page = await store.sweep_page(session, now, horizon, keys[start:start + size])
                events = await self._sweep_page(session, page, now)
            self._committed(events)
            raised += events
        return raised

    async def _sweep_page(self, session: AsyncSession, page: list[store.Candidate], now: datetime) -> list[CaseEvent]:
        """The domain decides on the page's views; then one UPDATE of the cases it warned, one INSERT of
        their event log rows and one of their outbox rows."""
        events: list[CaseEvent] = []
        swept: list[tuple[store.Candidate, int]] = []
        log_rows: list[dict[str, Any]] = []
        staged = _Staging(self.rt.outbox, now)
        for cand in page:
            mine = cand.watched.check_deadlines(now, self.calendar, self.settings.due_soon_hours)
            if not mine:
                continue
            seq = cand.event_seq
            for event in mine:
                seq += 1
                data = event.to_dict()
                log_rows.append(store.event_row(cand.dossier_id, seq, staged.add(event, data), event, data))
            swept.append((cand, seq))
            events += mine
        await store.save_swept(session, swept, now)
        await store.insert_events(session, log_rows)
        await staged.write(session)
        return events

    # --- persistence ---------------------------------------------------------------------------

    async def _persist(
        self, session: AsyncSession, row: CaseRow, case: Case, events: list[CaseEvent], now: datetime
    ) -> None:
        first = row.event_seq  # read before the save: the version check comes first, then the appends
        await store.save(session, row, case, now, event_seq=first + len(events))
        await self._emit(session, row.dossier_id, first, events, now)

    async def _emit(
        self, session: AsyncSession, dossier_id: UUID, seq: int, events: Iterable[CaseEvent], now: datetime
    ) -> int:
        """Each domain event → its contract event in the outbox, and a row of the case's event log."""
        staged = _Staging(self.rt.outbox, now)
        rows = []
        for event in events:
            seq += 1
            data = event.to_dict()
            rows.append(store.event_row(dossier_id, seq, staged.add(event, data), event, data))
        await store.insert_events(session, rows)
        await staged.write(session)
        return seq

    def _count(self, events: Iterable[CaseEvent]) -> None:
        for event in events:
            self.events_total.labels(self.rt.name, event.type).inc()

    def _committed(self, events: list[CaseEvent]) -> None:
        if events:
            self._count(events)
            self.rt.wake_relay()


_OPENINGS = "processing.openings"  # session.info key: the cases opened in the transaction, not yet written


@dataclass(eq=False, slots=True)
class _Opening:
    row: dict[str, Any]  # the `cases` row
    log: list[dict[str, Any]]  # its `case_events` rows
    outbox: list[dict[str, Any]]  # its outbox rows
    events: list[CaseEvent]


@dataclass(eq=False)
class _Openings:
    """The cases opened in one transaction, written together just before it commits."""

    workflow: Workflow
    items: list[_Opening]

    @classmethod
    def of(cls, session: AsyncSession, workflow: Workflow) -> _Openings:
        sync = session.sync_session
        openings: _Openings | None = sync.info.get(_OPENINGS)
        if openings is None:
            openings = sync.info[_OPENINGS] = cls(workflow, [])
            sa_event.listen(sync, "before_commit", _write_openings, once=True)
            sa_event.listen(sync, "after_rollback", _forget_openings, once=True)
        return openings

    @staticmethod
    async def flush(session: AsyncSession) -> None:
        """Write what is collected now (before a command reads a case the same transaction opened)."""
        openings: _Openings | None = session.sync_session.info.get(_OPENINGS)
        if openings is not None and openings.items:
            await session.run_sync(lambda sync: openings.write(sync.connection()))

    def write(self, conn: Connection) -> None:
        """The first receipt of each dossier opens its case, unless one is stored already; only the cases
        inserted get their event log and outbox rows."""
        items, self.items = self.items, []
        first: dict[UUID, _Opening] = {}
        for item in items:
            first.setdefault(item.row["dossier_id"], item)
        inserted = store.insert_cases(conn, [item.row for item in first.values()])
        opened = [item for item in first.values() if str(item.row["dossier_id"]) in inserted]
        store.append_events(conn, [row for item in opened for row in item.log])
        assert self.workflow.rt.outbox is not None
        store.stage_outbox(conn, self.workflow.rt.outbox, [row for item in opened for row in item.outbox])
        for item in opened:
            self.workflow._count(item.events)


def _write_openings(session: Session) -> None:
    openings: _Openings | None = session.info.pop(_OPENINGS, None)
    if openings is not None and openings.items:
        openings.write(session.connection())


def _forget_openings(session: Session) -> None:
    session.info.pop(_OPENINGS, None)


class _Staging:
    """Outbox rows of many events, written with one INSERT (what `libs.messaging.enqueue` writes, one by one)."""

    def __init__(self, table: Table | None, now: datetime) -> None:
        assert table is not None
        self.table, self.now, self.rows = table, now, list[dict[str, Any]]()

    def add(self, event: CaseEvent, data: dict[str, Any]) -> str:
        """Stage the contract event of `event` (`data` is `event.to_dict()`); returns its ce_id."""
        row = outbox_row(REGISTRY[contract_type(event.type)].model_validate(data), self.now)
        self.rows.append(row)
        return str(row["event_id"])

    async def write(self, session: AsyncSession) -> None:
        await store.insert_outbox(session, self.table, self.rows)
