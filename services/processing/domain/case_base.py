"""The data of a case (hồ sơ đang giải quyết) and the small helpers its commands share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from libs.calendar import WorkCalendar
from services.processing.domain.errors import NotAllowed
from services.processing.domain.events import CaseEvent
from services.processing.domain.plan import ProcedurePlan
from services.processing.domain.result_file import AttachedResult
from services.processing.domain.states import CaseState, SubState, ensure_state, ensure_transition
from services.processing.domain.steps import Handoff, Step, timeliness

E = TypeVar("E", bound=CaseEvent)

# States in which officers work on steps (assign, complete, hand over).
WORKING = frozenset({CaseState.RECEIVED, CaseState.PROCESSING, CaseState.RESULT_READY})


def require_aware(moment: datetime, name: str = "now") -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment.isoformat()}")


def fmt(moment: datetime) -> str:
    return moment.strftime("%H:%M %d/%m/%Y")


class StepRef(Protocol):
    """What an event tells of a step: a whole `Step`, or the sweep's copy of the current one."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def deadline(self) -> datetime | None: ...


class EventSubject(Protocol):
    """The case-wide part of every event: a whole case, or the deadline watch's view of one."""

    @property
    def dossier_id(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def holder_agency(self) -> str: ...
    @property
    def state(self) -> CaseState: ...
    @property
    def sub_state(self) -> SubState | None: ...


def build_event(
    cls: type[E], case: EventSubject, actor: str, now: datetime, step: StepRef | None, agency: str | None = None,
    **extra: Any,
) -> E:
    return cls(
        dossier_id=case.dossier_id,
        code=case.code,
        actor=actor,
        agency=agency or case.holder_agency,
        at=now,
        state=case.state,
        sub_state=case.sub_state,
        step_code=step.code if step else None,
        step_name=step.name if step else None,
        step_deadline=step.deadline if step else None,
        timeliness=timeliness(now, step.deadline) if step else None,
        **extra,
    )


@dataclass(eq=False)
class CaseData:
    dossier_id: str
    code: str  # mã hồ sơ
    procedure: ProcedurePlan
    receiving_agency: str  # nơi tiếp nhận: the desk that returns the result
    competent_agency: str  # cơ quan có thẩm quyền giải quyết
    holder_agency: str  # who holds the dossier now
    state: CaseState
    received_at: datetime
    appointment_at: datetime  # current ngày hẹn trả
    original_appointment_at: datetime  # as printed on Form 01
    total_hours: float  # working hours the step shares are taken from
    steps: list[Step]
    calendar: WorkCalendar = field(repr=False)
    current: int = 0  # index of the step in progress or waiting for a hand-over
    sub_state: SubState | None = None
    extended: bool = False
    extension_reason: str = ""
    paused_since: datetime | None = None
    resume_state: CaseState | None = None
    handoffs: list[Handoff] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)  # warnings already raised by the sweep
    outcome: str | None = None  # approved | rejected | done
    payment_amount_vnd: int | None = None
    return_method: str | None = None
    closed_at: datetime | None = None
    result_file: AttachedResult | None = None  # the signed result the competent agency attached (§4.4)

    # --- views -------------------------------------------------------------------------------

    @property
    def current_step(self) -> Step | None:
        return self.steps[self.current] if self.current < len(self.steps) else None

    @property
    def active_step(self) -> Step | None:
        step = self.current_step
        return step if step is not None and step.is_active else None

    @property
    def next_step(self) -> Step | None:
        """The step the next hand-over leads to."""
        if self.active_step is None:
            return self.current_step
        after = self.current + 1
        return self.steps[after] if after < len(self.steps) else None

    @property
    def pending_handoff(self) -> Handoff | None:
        last = self.handoffs[-1] if self.handoffs else None
        return last if last is not None and last.pending else None

    # --- guards ------------------------------------------------------------------------------

    def _guard(self, now: datetime, allowed: frozenset[CaseState], action: str) -> None:
        require_aware(now)
        ensure_state(self.state, allowed, action)

    def _guard_move(self, now: datetime, target: CaseState, action: str) -> None:
        require_aware(now)
        ensure_transition(self.state, target, action)

    def _require_settled(self, action: str) -> None:
        handoff = self.pending_handoff
        if handoff is not None:
            raise NotAllowed(
                f"cannot {action}: {handoff.to_agency} has not yet acknowledged the {handoff.kind} "
                f"sent at {fmt(handoff.sent_at)}"
            )

    def _require_active(self, action: str) -> Step:
        step = self.active_step
        if step is None:
            raise NotAllowed(f"cannot {action}: no step is in progress at {self.holder_agency}")
        return step

    # --- changes -----------------------------------------------------------------------------

    def _move(self, target: CaseState, action: str) -> None:
        ensure_transition(self.state, target, action)
        self.state = target

    def _begin_processing(self, action: str) -> None:
        """The first hand-over out of the desk's receipt step starts processing (2 → 4)."""
        if self.state is CaseState.RECEIVED:
            self._move(CaseState.PROCESSING, action)

    def _start(self, step: Step, start: datetime) -> None:
        step.started_at = start
        step.deadline = self._step_deadline(step, start)

    def _step_deadline(self, step: Step, start: datetime) -> datetime:
        # A step with no share (the return step, "không tính thời gian") is bound by the appointment.
        if step.share == 0:
            return self.appointment_at
        return self.calendar.add_working_hours(start, step.share * self.total_hours)

    def _complete_active(self, now: datetime, actor: str) -> Step | None:
        step = self.active_step
        if step is None:
            return None
        step.completed_at, step.completed_by = now, actor
        self.current += 1
        return step

    def _start_next_here(self, now: datetime) -> None:
        step = self.current_step
        if step is not None and step.started_at is None and step.agency == self.holder_agency:
            self._start(step, now)

    def _shift_clock(self, since: datetime, until: datetime, appointment: datetime | None = None) -> None:
        """Move the appointment (unless given) and the running step's deadline later by the office time
        from `since` to `until`: the calendar's one pause rule, which reporting follows too."""
        cal = self.calendar
        self.appointment_at = appointment or cal.after_pause(self.appointment_at, since, until)
        step = self.active_step
        if step is None or step.deadline is None:
            return
        shifted = cal.after_pause(step.deadline, since, until)
        step.deadline = self.appointment_at if step.share == 0 else shifted

    # --- events ------------------------------------------------------------------------------

    def _event(
        self, cls: type[E], actor: str, now: datetime, step: Step | None, agency: str | None = None,
        **extra: Any,
    ) -> E:
        return build_event(cls, self, actor, now, step, agency, **extra)

    @staticmethod
    def _receiver(step: Step | None, fallback_agency: str) -> dict[str, Any]:
        """Slip columns for whoever takes the dossier next: the named officer, else the step's role."""
        if step is None:
            return {"receiver": None, "receiver_agency": fallback_agency}
        return {"receiver": step.assignee or step.role, "receiver_agency": step.agency}
