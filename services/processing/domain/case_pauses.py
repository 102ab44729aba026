"""Waiting for the citizen: supplement requests (Form 02) and financial obligations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.processing.domain.case_base import CaseData
from services.processing.domain.errors import NotAllowed
from services.processing.domain.events import (
    CITIZEN,
    CaseEvent,
    PaymentReceived,
    PaymentRequested,
    SupplementReceived,
    SupplementRequested,
)
from services.processing.domain.plan import SupplementPolicy
from services.processing.domain.states import CaseState, SubState


class PauseCommands(CaseData):
    def request_supplement(
        self, actor: str, items: Sequence[str], reason: str, now: datetime
    ) -> list[CaseEvent]:
        action = "request a supplement"
        self._guard_move(now, CaseState.SUPPLEMENT_REQUESTED, action)
        self._require_settled(action)
        papers = tuple(item.strip() for item in items if item.strip())
        if not papers:
            raise NotAllowed(f"cannot {action}: list at least one missing or incorrect paper")
        if not reason.strip():
            raise NotAllowed(f"cannot {action}: a reason is required")
        self._pause(CaseState.SUPPLEMENT_REQUESTED, now, action)
        at_desk = self.holder_agency == self.receiving_agency
        self.sub_state = SubState.CITIZEN_SUPPLEMENT if at_desk else SubState.ONE_STOP_SUPPLEMENT
        return [
            self._event(SupplementRequested, actor, now, self.active_step, items=papers, reason=reason,
                        policy=self.procedure.supplement_policy.value, note=reason)
        ]

    def supplement_received(self, now: datetime, actor: str = CITIZEN) -> list[CaseEvent]:
        """The citizen handed in the missing papers; the clock resumes per the procedure's policy."""
        action = "receive a supplement"
        self._guard(now, frozenset({CaseState.SUPPLEMENT_REQUESTED}), action)
        previous, since = self.appointment_at, self.paused_since or now
        waited = self._resume(now, action)
        if self.procedure.supplement_policy is SupplementPolicy.PAUSE:
            self._shift_clock(since, now)
        else:
            self._restart_clock(now)
        return [
            self._event(SupplementReceived, actor, now, self.active_step, agency=self.receiving_agency,
                        policy=self.procedure.supplement_policy.value, waited_hours=waited,
                        previous_appointment_at=previous, appointment_at=self.appointment_at)
        ]

    def request_payment(self, actor: str, amount_vnd: int, now: datetime) -> list[CaseEvent]:
        """Ask the citizen to fulfil a financial obligation (fees, land tax) before going on."""
        action = "request a payment"
        self._guard_move(now, CaseState.PAYMENT_REQUESTED, action)
        self._require_settled(action)
        if amount_vnd <= 0:
            raise NotAllowed(f"cannot {action}: the amount must be above 0 VND, got {amount_vnd}")
        self._pause(CaseState.PAYMENT_REQUESTED, now, action)
        self.sub_state = SubState.AWAITING_PAYMENT
        self.payment_amount_vnd = amount_vnd
        return [self._event(PaymentRequested, actor, now, self.active_step, amount_vnd=amount_vnd)]

    def payment_received(self, now: datetime, actor: str = CITIZEN) -> list[CaseEvent]:
        """Paid; the time spent paying is not counted, so the appointment moves back by it."""
        action = "record a payment"
        self._guard(now, frozenset({CaseState.PAYMENT_REQUESTED}), action)
        previous, since = self.appointment_at, self.paused_since or now
        waited = self._resume(now, action)
        self._shift_clock(since, now)
        return [
            self._event(PaymentReceived, actor, now, self.active_step, agency=self.receiving_agency,
                        amount_vnd=self.payment_amount_vnd or 0, waited_hours=waited,
                        previous_appointment_at=previous, appointment_at=self.appointment_at)
        ]

    def _pause(self, target: CaseState, now: datetime, action: str) -> None:
        self.resume_state = self.state
        self._move(target, action)
        self.paused_since = now

    def _resume(self, now: datetime, action: str) -> float:
        """Back to the state before the pause; returns the office hours spent waiting."""
        since = self.paused_since or now
        waited = max(0.0, self.calendar.working_hours_between(since, now))
        self._move(self.resume_state or CaseState.PROCESSING, action)
        self.sub_state, self.paused_since, self.resume_state = None, None, None
        return waited

    def _restart_clock(self, now: datetime) -> None:
        """Counting starts again from the hand-in: a new appointment and a fresh running step."""
        cal, plan = self.calendar, self.procedure
        start = cal.start_of_counting(now, plan.cutoff)
        self.appointment_at = cal.due(now, plan.time_limit, plan.cutoff)
        self.total_hours = max(0.0, cal.working_hours_between(start, self.appointment_at))
        step = self.active_step
        if step is not None:
            self._start(step, start)
