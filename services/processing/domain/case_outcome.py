"""Ending a case: extension (Form 04), stop, withdrawal, the signed result file, decision, result ready,
hand-over to the citizen."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from libs.contracts.common import DocumentKind
from services.processing.domain.case_base import CaseData, fmt, require_aware
from services.processing.domain.errors import NotAllowed
from services.processing.domain.events import (
    APPLICANT,
    CITIZEN,
    SYSTEM,
    Approved,
    CaseEvent,
    DeadlineExtended,
    Rejected,
    ResultHandedOver,
    ResultReady,
    Stopped,
    Withdrawn,
)
from services.processing.domain.plan import Owner
from services.processing.domain.result_file import ATTACHABLE, AttachedResult, decision_manifest
from services.processing.domain.states import CLOCK_RUNNING, CaseState, SubState
from services.processing.domain.steps import Step, timeliness

EXTENSION_NOTICE_HOURS = 8.0  # "no later than 1 working day before the deadline" (DOMAIN §1.2.6)
HANDOVER_METHODS = frozenset({"in_person", "post", "online"})
OVERDUE_FLAG = "overdue"


class OutcomeCommands(CaseData):
    def extend(self, actor: str, reason: str, new_due: datetime, now: datetime) -> list[CaseEvent]:
        """Apologise and set a new appointment (Form 04): once, and at least 1 working day ahead."""
        action = "extend the appointment"
        self._guard(now, CLOCK_RUNNING, action)
        require_aware(new_due, "new_due")
        self._require_settled(action)
        self._check_extension(reason, new_due, now)
        previous = self.appointment_at
        self._shift_clock(previous, new_due, appointment=new_due)
        self.extended, self.extension_reason = True, reason
        self.flags.discard(OVERDUE_FLAG)  # a new deadline may be flagged once more if it passes too
        return [
            self._event(DeadlineExtended, actor, now, self.active_step, reason=reason, note=reason,
                        previous_appointment_at=previous, appointment_at=new_due)
        ]

    def _check_extension(self, reason: str, new_due: datetime, now: datetime) -> None:
        if self.extended:
            raise NotAllowed("cannot extend: the appointment was already extended once (Form 04 only once)")
        if not reason.strip():
            raise NotAllowed("cannot extend: the reason for the delay is required")
        if new_due <= self.appointment_at:
            raise NotAllowed(
                f"cannot extend: the new date {fmt(new_due)} must be later than the current appointment "
                f"{fmt(self.appointment_at)}"
            )
        latest = self.calendar.subtract_working_hours(self.appointment_at, EXTENSION_NOTICE_HOURS)
        if now > latest:
            raise NotAllowed(
                f"cannot extend: the apology must come at least 1 working day before the appointment "
                f"{fmt(self.appointment_at)}, i.e. by {fmt(latest)}"
            )

    def stop(self, actor: str, reason: str, now: datetime) -> list[CaseEvent]:
        """Stop processing (dừng xử lý; Form 05 of the 2025 set)."""
        action = "stop the case"
        self._guard_move(now, CaseState.STOPPED, action)
        if not reason.strip():
            raise NotAllowed("cannot stop the case: a reason is required")
        step = self.active_step
        self._close(CaseState.STOPPED, now, action)
        return [self._event(Stopped, actor, now, step, reason=reason, note=reason)]

    def withdraw(self, now: datetime, reason: str = "", actor: str = CITIZEN) -> list[CaseEvent]:
        """The applicant takes the dossier back (rút hồ sơ), relayed from the desk."""
        action = "withdraw the case"
        self._guard_move(now, CaseState.WITHDRAWN, action)
        step = self.active_step
        self._close(CaseState.WITHDRAWN, now, action)
        return [
            self._event(Withdrawn, actor, now, step, agency=self.receiving_agency, reason=reason, note=reason)
        ]

    def attach_result(self, document: Mapping[str, Any], agency: str, actor: str, at: datetime) -> list[CaseEvent]:
        """Record the signed result file `agency` attached at intake (§4.4); a later one replaces it.

        Only the competent agency decides the case, so only it attaches the result, and only before the
        decision. No event of its own: intake published `dossier.result_attached`, and the decision's
        `case.result_ready` carries the file."""
        action = "attach the result file"
        self._guard(at, ATTACHABLE, action)
        if agency != self.competent_agency:
            raise NotAllowed(f"cannot {action}: the case is decided by {self.competent_agency}, not by {agency or '?'}")
        if document.get("kind") != DocumentKind.RESULT.value:
            raise NotAllowed(f"cannot {action}: document {document.get('document_id')} is not a result")
        self.result_file = AttachedResult(dict(document), actor, agency, at)
        return []

    def approve(self, actor: str, now: datetime, note: str = "", electronic: bool | None = None) -> list[CaseEvent]:
        """`electronic`: None follows the attached result file, a boolean must agree with it (§4.4)."""
        step = self._check_decision("approve", now)
        manifest = decision_manifest(self.result_file, self.code, "approve", electronic)
        row = self._settle("approved", actor, now, note)
        return [self._event(Approved, actor, now, step, **row), self._ready(actor, now, step, manifest)]

    def reject(self, actor: str, reason: str, now: datetime) -> list[CaseEvent]:
        step = self._check_decision("reject", now)
        if not reason.strip():
            raise NotAllowed("cannot reject: a reason is required")
        row = self._settle("rejected", actor, now, reason)
        return [self._event(Rejected, actor, now, step, reason=reason, **row), self._ready(actor, now, step)]

    def mark_result_ready(
        self, actor: str, now: datetime, note: str = "", electronic: bool | None = None
    ) -> list[CaseEvent]:
        """A result with no approve/reject decision (e.g. a certified copy) is ready; `electronic` as in approve."""
        action = "mark the result ready"
        step = self._check_decision(action, now)
        manifest = decision_manifest(self.result_file, self.code, action, electronic)
        row = self._settle("done", actor, now, note)
        return [self._ready(actor, now, step, manifest, **row)]

    def result_handed_over(self, now: datetime, method: str, actor: str = SYSTEM) -> list[CaseEvent]:
        """The receiving desk hands the result to the applicant: in person, by post or online."""
        action = "hand over the result"
        self._guard_move(now, CaseState.RETURNED, action)
        if method not in HANDOVER_METHODS:
            known = ", ".join(sorted(HANDOVER_METHODS))
            raise NotAllowed(f"cannot {action}: unknown method {method!r}, use one of {known}")
        if self.holder_agency != self.receiving_agency:
            raise NotAllowed(
                f"cannot {action}: the result is still at {self.holder_agency}; return it to "
                f"{self.receiving_agency} first"
            )
        self._require_settled(action)
        step = self._complete_active(now, actor)
        for rest in self.steps[self.current :]:
            rest.skipped = True
        self._close(CaseState.RETURNED, now, action)
        self.return_method = method
        return [
            self._event(ResultHandedOver, actor, now, step, agency=self.receiving_agency, method=method,
                        handover=True, receiver=APPLICANT, receiver_agency=None, note=method)
        ]

    def _check_decision(self, action: str, now: datetime) -> Step:
        self._guard_move(now, CaseState.RESULT_READY, action)
        self._require_settled(action)
        step = self._require_active(action)
        if step.owner != Owner.COMPETENT:
            raise NotAllowed(
                f"cannot {action}: the decision belongs to a step of the competent agency, "
                f"not to the {step.owner} step '{step.code}'"
            )
        return step

    def _settle(self, outcome: str, actor: str, now: datetime, note: str) -> dict[str, Any]:
        """Close the deciding step and enter state 9; returns the slip columns of the hand-over."""
        following = self.next_step
        self._complete_active(now, actor)
        self._move(CaseState.RESULT_READY, f"record the outcome {outcome}")
        self.outcome = outcome
        at_desk = self.holder_agency == self.receiving_agency
        self.sub_state = SubState.AT_RETURN_DESK if at_desk else SubState.RESULT_AVAILABLE
        self._start_next_here(now)
        # A next step elsewhere waits for return_result; until then the result stays with the holder.
        here = following if following is not None and following.agency == self.holder_agency else None
        return {"handover": True, "note": note, **self._receiver(here, self.holder_agency)}

    def _ready(
        self, actor: str, now: datetime, step: Step, manifest: tuple[Mapping[str, Any], ...] = (), **row: Any
    ) -> CaseEvent:
        """`manifest`: the signed result file, when the result is electronic (then exactly one)."""
        return self._event(
            ResultReady, actor, now, step, outcome=self.outcome or "", appointment_at=self.appointment_at,
            resolution=timeliness(now, self.appointment_at), electronic=bool(manifest), manifest=manifest, **row,
        )

    def _close(self, target: CaseState, now: datetime, action: str) -> None:
        self._move(target, action)
        self.sub_state, self.paused_since, self.resume_state = None, None, None
        self.closed_at = now
