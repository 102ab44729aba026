"""Deadline watch of one case: overdue, due-soon and unacknowledged hand-overs, each raised once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from libs.calendar import WorkCalendar
from services.processing.domain.case_base import CaseData, require_aware
from services.processing.domain.case_outcome import OVERDUE_FLAG
from services.processing.domain.events import SYSTEM, CaseEvent, DueSoon, HandoffAckOverdue, Overdue
from services.processing.domain.states import CLOCK_RUNNING


class DeadlineWatch(CaseData):
    def check_deadlines(
        self, now: datetime, cal: WorkCalendar, due_soon_hours: float = 8.0
    ) -> list[CaseEvent]:
        """Warnings due at `now`; remembers them in `flags` so a later sweep stays quiet."""
        require_aware(now)
        if self.state.is_terminal:
            return []
        events = self._appointment_warning(now, cal, due_soon_hours)
        return events + self._handoff_warning(now)

    def _appointment_warning(
        self, now: datetime, cal: WorkCalendar, due_soon_hours: float
    ) -> list[CaseEvent]:
        # Only while the clock runs: waiting for the citizen or a finished result is never overdue.
        if self.state not in CLOCK_RUNNING:
            return []
        deadline, step = self.appointment_at, self.active_step or self.current_step
        if now > deadline:
            if OVERDUE_FLAG in self.flags:
                return []
            self.flags.add(OVERDUE_FLAG)
            return [self._event(Overdue, SYSTEM, now, step, deadline=deadline,
                                responsible_agency=self.holder_agency)]
        key = f"due_soon@{deadline.astimezone(UTC).isoformat()}"  # UTC: same key whatever zone stored
        hours_left = cal.working_hours_between(now, deadline)
        if key in self.flags or hours_left > due_soon_hours:
            return []
        self.flags.add(key)
        return [self._event(DueSoon, SYSTEM, now, step, deadline=deadline, hours_left=hours_left)]

    def _handoff_warning(self, now: datetime) -> list[CaseEvent]:
        handoff = self.pending_handoff
        if handoff is None or now <= handoff.ack_due_at:
            return []
        key = f"ack_overdue#{len(self.handoffs) - 1}"
        if key in self.flags:
            return []
        self.flags.add(key)
        return [
            self._event(HandoffAckOverdue, SYSTEM, now, self.active_step, agency=handoff.to_agency,
                        kind=handoff.kind, from_agency=handoff.from_agency, to_agency=handoff.to_agency,
                        sent_at=handoff.sent_at, ack_due_at=handoff.ack_due_at)
        ]


def sweep(
    cases: Iterable[DeadlineWatch], now: datetime, cal: WorkCalendar, due_soon_hours: float = 8.0
) -> list[CaseEvent]:
    """Overdue / due-soon / hand-over warnings for many cases.

    Updates each case's `flags`: persist the cases with the events, or the next sweep repeats them.
    """
    events: list[CaseEvent] = []
    for case in cases:
        events.extend(case.check_deadlines(now, cal, due_soon_hours))
    return events
