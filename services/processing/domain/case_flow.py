"""Moving a case along its step plan: assignment, steps, transfer to another agency and back."""

from __future__ import annotations

from datetime import datetime

from services.processing.domain.case_base import WORKING, CaseData, require_aware
from services.processing.domain.errors import NotAllowed
from services.processing.domain.events import (
    CaseEvent,
    HandoffAcknowledged,
    OfficerAssigned,
    ResultReturned,
    StepCompleted,
    Transferred,
)
from services.processing.domain.states import CaseState, SubState, ensure_state
from services.processing.domain.steps import Handoff, Step

ACK_HOURS = 2.0  # Decree 63/2024: the receiving agency acknowledges within 2 working hours
TRANSFERABLE = frozenset({CaseState.RECEIVED, CaseState.PROCESSING})
OPEN = frozenset(s for s in CaseState if not s.is_terminal)


class FlowCommands(CaseData):
    def assign(
        self, actor: str, officer: str, now: datetime, step_code: str | None = None
    ) -> list[CaseEvent]:
        """Name the officer for the step in progress, or ahead of time for a later step (phân công)."""
        action = "assign an officer"
        self._guard(now, WORKING, action)
        self._require_settled(action)
        step = self._require_active(action) if step_code is None else self._open_step(step_code, action)
        if not officer.strip():
            raise NotAllowed("cannot assign an officer: the officer id is empty")
        step.assignee = officer
        return [self._event(OfficerAssigned, actor, now, step, officer=officer)]

    def complete_step(self, actor: str, now: datetime, note: str = "") -> list[CaseEvent]:
        """Finish the step in progress and pass the dossier to the next step of the same agency."""
        action = "complete the step"
        self._guard(now, WORKING, action)
        self._require_settled(action)
        step = self._require_active(action)
        following = self.next_step
        if following is not None and following.agency != self.holder_agency:
            command = "return_result" if self.state is CaseState.RESULT_READY else "transfer"
            raise NotAllowed(
                f"cannot complete step '{step.code}' here: the next step '{following.code}' is done by "
                f"{following.agency}; use {command}"
            )
        self._begin_processing(action)
        self._complete_active(now, actor)
        self._start_next_here(now)
        receiver = self._receiver(following, self.holder_agency)
        next_code = following.code if following else None
        return [
            self._event(StepCompleted, actor, now, step, handover=True, note=note, next_step_code=next_code,
                        **receiver)
        ]

    def transfer(self, actor: str, to_agency: str, now: datetime, note: str = "") -> list[CaseEvent]:
        """Send the dossier to the agency of the next step (liên thông, e.g. ward → city department)."""
        action = f"transfer the case to {to_agency}"
        self._guard(now, TRANSFERABLE, action)
        if self.next_step is None:
            raise NotAllowed(f"cannot {action}: no step of the plan is left")
        return [self._hand_over("transfer", actor, to_agency, now, note)]

    def return_result(self, actor: str, now: datetime, note: str = "") -> list[CaseEvent]:
        """Send the result back to the receiving desk, which returns it to the citizen (city → ward)."""
        action = "return the result to the receiving agency"
        self._guard(now, frozenset({CaseState.RESULT_READY}), action)
        if self.holder_agency == self.receiving_agency:
            raise NotAllowed(f"cannot {action}: the result is already at {self.receiving_agency}")
        return [self._hand_over("return", actor, self.receiving_agency, now, note)]

    def acknowledge_transfer(self, actor: str, now: datetime) -> list[CaseEvent]:
        """The agency that received a hand-over confirms it has the dossier."""
        require_aware(now)
        ensure_state(self.state, OPEN, "acknowledge a hand-over")
        handoff = self.pending_handoff
        if handoff is None:
            raise NotAllowed("cannot acknowledge: no hand-over is waiting for acknowledgement")
        handoff.acknowledged_at, handoff.acknowledged_by = now, actor
        if handoff.kind == "return":
            self.sub_state = SubState.AT_RETURN_DESK
        return [
            self._event(
                HandoffAcknowledged, actor, now, self.active_step, agency=handoff.to_agency,
                kind=handoff.kind, from_agency=handoff.from_agency, sent_at=handoff.sent_at,
                ack_due_at=handoff.ack_due_at, ack_late=now > handoff.ack_due_at,
            )
        ]

    def _open_step(self, code: str, action: str) -> Step:
        for step in self.steps[self.current :]:
            if step.code == code and step.completed_at is None:
                if step.agency != self.holder_agency:
                    raise NotAllowed(f"cannot {action}: step '{code}' is done by {step.agency}")
                return step
        raise NotAllowed(f"cannot {action}: no open step '{code}' (it is unknown or already done)")

    def _hand_over(self, kind: str, actor: str, to_agency: str, now: datetime, note: str) -> CaseEvent:
        action = f"{kind} the case to {to_agency}"
        self._require_settled(action)
        if to_agency == self.holder_agency:
            raise NotAllowed(f"cannot {action}: the case is already at {to_agency}")
        target = self.next_step
        if target is not None and target.agency != to_agency:
            raise NotAllowed(f"cannot {action}: the next step '{target.code}' is done by {target.agency}")
        giver = self.holder_agency
        if kind == "transfer":
            self._begin_processing(action)
        done = self._complete_active(now, actor)
        self.holder_agency = to_agency
        if target is not None:
            self._start(target, now)
        if kind == "return":
            self.sub_state = SubState.AWAITING_CONFIRMATION
        ack_due = self.calendar.add_working_hours(now, ACK_HOURS)
        self.handoffs.append(Handoff(kind, giver, to_agency, now, ack_due, actor))
        cls = Transferred if kind == "transfer" else ResultReturned
        return self._event(
            cls, actor, now, done, agency=giver, handover=True, note=note, from_agency=giver,
            to_agency=to_agency, ack_due_at=ack_due, **self._receiver(target, to_agency),
        )
