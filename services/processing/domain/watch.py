"""Deadline watch of one case: overdue, due-soon and unacknowledged hand-overs, each raised once.

The rules run on a `Watched` view: the few facts they read (state, appointment, current step, pending
hand-over, flags already raised). A whole case offers it (`Case.watched()`); the sweep builds it from the
case's query columns instead, so checking a page of cases never loads them whole."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from libs.calendar import WorkCalendar
from services.processing.domain.case_base import CaseData, StepRef, build_event, require_aware
from services.processing.domain.case_outcome import OVERDUE_FLAG
from services.processing.domain.events import SYSTEM, CaseEvent, DueSoon, HandoffAckOverdue, Overdue
from services.processing.domain.states import CLOCK_RUNNING, CaseState, SubState
from services.processing.domain.steps import Handoff


def due_soon_flag(deadline: datetime) -> str:
    return f"due_soon@{deadline.astimezone(UTC).isoformat()}"  # UTC: same key whatever zone stored


def ack_overdue_flag(handoff_no: int) -> str:
    return f"ack_overdue#{handoff_no}"


@dataclass(frozen=True)
class StepView:
    """The current step as the sweep's query columns keep it (all an event says of a step)."""

    code: str
    name: str
    deadline: datetime | None


@dataclass(eq=False)
class Watched:
    """What the deadline rules read of a case; `check_deadlines` adds what it raises to `flags`."""

    dossier_id: str
    code: str
    state: CaseState
    sub_state: SubState | None
    holder_agency: str
    appointment_at: datetime
    step: StepRef | None  # the current step (in progress, or waiting for a hand-over)
    step_active: bool  # it is in progress
    handoff: Handoff | None  # the pending hand-over, if any (may be left out when not yet late)
    handoff_no: int  # its index among the case's hand-overs
    flags: set[str]

    def check_deadlines(self, now: datetime, cal: WorkCalendar, due_soon_hours: float = 8.0) -> list[CaseEvent]:
        """Warnings due at `now`; remembers them in `flags` so a later sweep stays quiet."""
        require_aware(now)
        if self.state.is_terminal:
            return []
        events = self._appointment_warning(now, cal, due_soon_hours)
        return events + self._handoff_warning(now)

    def warned(self) -> tuple[bool, bool, bool]:
        """(overdue, due-soon raised for this appointment, late acknowledgement raised for this hand-over)."""
        flags = self.flags
        return (
            OVERDUE_FLAG in flags,
            due_soon_flag(self.appointment_at) in flags,
            self.handoff is not None and ack_overdue_flag(self.handoff_no) in flags,
        )

    def _appointment_warning(self, now: datetime, cal: WorkCalendar, due_soon_hours: float) -> list[CaseEvent]:
        # Only while the clock runs: waiting for the citizen or a finished result is never overdue.
        if self.state not in CLOCK_RUNNING:
            return []
        deadline, step = self.appointment_at, self.step
        if now > deadline:
            if OVERDUE_FLAG in self.flags:
                return []
            self.flags.add(OVERDUE_FLAG)
            return [build_event(Overdue, self, SYSTEM, now, step, deadline=deadline,
                                responsible_agency=self.holder_agency)]
        key = due_soon_flag(deadline)
        if key in self.flags:
            return []
        hours_left = cal.working_hours_between(now, deadline)
        if hours_left > due_soon_hours:
            return []
        self.flags.add(key)
        return [build_event(DueSoon, self, SYSTEM, now, step, deadline=deadline, hours_left=hours_left)]

    def _handoff_warning(self, now: datetime) -> list[CaseEvent]:
        handoff = self.handoff
        if handoff is None or now <= handoff.ack_due_at:
            return []
        key = ack_overdue_flag(self.handoff_no)
        if key in self.flags:
            return []
        self.flags.add(key)
        return [
            build_event(HandoffAckOverdue, self, SYSTEM, now, self.step if self.step_active else None,
                        agency=handoff.to_agency, kind=handoff.kind, from_agency=handoff.from_agency,
                        to_agency=handoff.to_agency, sent_at=handoff.sent_at, ack_due_at=handoff.ack_due_at)
        ]


class DeadlineWatch(CaseData):
    def watched(self) -> Watched:
        """This case as the deadline rules see it; its `flags` are the case's own set (shared, not copied)."""
        return Watched(
            dossier_id=self.dossier_id, code=self.code, state=self.state, sub_state=self.sub_state,
            holder_agency=self.holder_agency, appointment_at=self.appointment_at, step=self.current_step,
            step_active=self.active_step is not None, handoff=self.pending_handoff,
            handoff_no=len(self.handoffs) - 1, flags=self.flags,
        )

    def check_deadlines(
        self, now: datetime, cal: WorkCalendar, due_soon_hours: float = 8.0
    ) -> list[CaseEvent]:
        """Warnings due at `now`; remembers them in `flags` so a later sweep stays quiet."""
        return self.watched().check_deadlines(now, cal, due_soon_hours)


class _Checkable(Protocol):
    def check_deadlines(self, now: datetime, cal: WorkCalendar, due_soon_hours: float = ...) -> list[CaseEvent]: ...


def sweep(
    cases: Iterable[_Checkable], now: datetime, cal: WorkCalendar, due_soon_hours: float = 8.0
) -> list[CaseEvent]:
    """Overdue / due-soon / hand-over warnings for many cases (whole cases or `Watched` views).

    Updates each case's `flags`: persist the cases with the events, or the next sweep repeats them.
    """
    events: list[CaseEvent] = []
    for case in cases:
        events.extend(case.check_deadlines(now, cal, due_soon_hours))
    return events
