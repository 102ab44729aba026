"""Domain events of a case; each command returns a list of them, the slip is rebuilt from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar

from services.processing.domain.states import CaseState, SubState
from services.processing.domain.steps import Timeliness

SYSTEM = "system"
CITIZEN = "citizen"
APPLICANT = "applicant"  # receiver of the last slip row: the result goes to the person who filed


@dataclass(frozen=True, kw_only=True)
class CaseEvent:
    """Common part: who did what, where, when, and how the step stood against its deadline."""

    type: ClassVar[str] = "case.event"

    dossier_id: str
    code: str
    actor: str  # officer id, "system" or "citizen"
    agency: str  # e-ID of the agency acting
    at: datetime
    state: CaseState  # state after the event
    sub_state: SubState | None = None
    step_code: str | None = None
    step_name: str | None = None
    step_deadline: datetime | None = None
    timeliness: Timeliness | None = None  # `at` against `step_deadline`
    handover: bool = False  # True: a row of the process-control slip (giver → receiver)
    receiver: str | None = None
    receiver_agency: str | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type}
        names = _NAMES.get(type(self))
        if names is None:
            names = _NAMES[type(self)] = tuple(f.name for f in fields(self))
        for name in names:
            value = getattr(self, name)
            data[name] = value if value is None or type(value) in _SCALARS else _plain(value)
        data["state_label"] = self.state.label
        return data


_NAMES: dict[type[CaseEvent], tuple[str, ...]] = {}
_SCALARS = frozenset({str, int, float, bool})


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, kw_only=True)
class CaseOpened(CaseEvent):
    type: ClassVar[str] = "case.opened"
    procedure_code: str
    received_at: datetime
    appointment_at: datetime
    receiving_agency: str
    competent_agency: str
    supplement_policy: str
    total_hours: float


@dataclass(frozen=True, kw_only=True)
class OfficerAssigned(CaseEvent):
    type: ClassVar[str] = "case.assigned"
    officer: str


@dataclass(frozen=True, kw_only=True)
class StepCompleted(CaseEvent):
    type: ClassVar[str] = "case.step_completed"
    next_step_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class Transferred(CaseEvent):
    type: ClassVar[str] = "case.transferred"
    from_agency: str
    to_agency: str
    ack_due_at: datetime


@dataclass(frozen=True, kw_only=True)
class HandoffAcknowledged(CaseEvent):
    type: ClassVar[str] = "case.transfer_acknowledged"
    kind: str  # transfer | return
    from_agency: str
    sent_at: datetime
    ack_due_at: datetime
    ack_late: bool


@dataclass(frozen=True, kw_only=True)
class ResultReturned(CaseEvent):
    """The competent agency sent the result back to the receiving desk (city → ward)."""

    type: ClassVar[str] = "case.result_returned"
    from_agency: str
    to_agency: str
    ack_due_at: datetime


@dataclass(frozen=True, kw_only=True)
class SupplementRequested(CaseEvent):
    """Form 02 (Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ)."""

    type: ClassVar[str] = "case.supplement_requested"
    items: tuple[str, ...]
    reason: str
    policy: str


@dataclass(frozen=True, kw_only=True)
class SupplementReceived(CaseEvent):
    type: ClassVar[str] = "case.supplement_received"
    policy: str
    waited_hours: float
    previous_appointment_at: datetime
    appointment_at: datetime


@dataclass(frozen=True, kw_only=True)
class PaymentRequested(CaseEvent):
    type: ClassVar[str] = "case.payment_requested"
    amount_vnd: int


@dataclass(frozen=True, kw_only=True)
class PaymentReceived(CaseEvent):
    type: ClassVar[str] = "case.payment_received"
    amount_vnd: int
    waited_hours: float
    previous_appointment_at: datetime
    appointment_at: datetime


@dataclass(frozen=True, kw_only=True)
class DeadlineExtended(CaseEvent):
    """Form 04 (Phiếu xin lỗi và hẹn lại ngày trả kết quả)."""

    type: ClassVar[str] = "case.deadline_extended"
    reason: str
    previous_appointment_at: datetime
    appointment_at: datetime


@dataclass(frozen=True, kw_only=True)
class Stopped(CaseEvent):
    """Form 05 of the 2025 set (Thông báo dừng giải quyết hồ sơ)."""

    type: ClassVar[str] = "case.stopped"
    reason: str


@dataclass(frozen=True, kw_only=True)
class Withdrawn(CaseEvent):
    type: ClassVar[str] = "case.withdrawn"
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Approved(CaseEvent):
    type: ClassVar[str] = "case.approved"


@dataclass(frozen=True, kw_only=True)
class Rejected(CaseEvent):
    type: ClassVar[str] = "case.rejected"
    reason: str


@dataclass(frozen=True, kw_only=True)
class ResultReady(CaseEvent):
    """State 9: resolved. `resolution` compares the time with the appointment (Form 06 cols 8–10)."""

    type: ClassVar[str] = "case.result_ready"
    outcome: str  # approved | rejected | done
    appointment_at: datetime
    resolution: Timeliness | None
    electronic: bool = False
    manifest: tuple[Mapping[str, Any], ...] = ()  # the attached signed result (JSON), when electronic


@dataclass(frozen=True, kw_only=True)
class ResultHandedOver(CaseEvent):
    type: ClassVar[str] = "case.result_handed_over"
    method: str  # in_person | post | online


@dataclass(frozen=True, kw_only=True)
class Overdue(CaseEvent):
    """The appointment passed while the clock was running; the responsible step and agency are kept."""

    type: ClassVar[str] = "case.overdue"
    deadline: datetime
    responsible_agency: str


@dataclass(frozen=True, kw_only=True)
class DueSoon(CaseEvent):
    type: ClassVar[str] = "case.due_soon"
    deadline: datetime
    hours_left: float


@dataclass(frozen=True, kw_only=True)
class HandoffAckOverdue(CaseEvent):
    type: ClassVar[str] = "case.transfer_ack_overdue"
    kind: str
    from_agency: str
    to_agency: str
    sent_at: datetime
    ack_due_at: datetime


EVENT_TYPES: tuple[type[CaseEvent], ...] = (
    CaseOpened, OfficerAssigned, StepCompleted, Transferred, HandoffAcknowledged, ResultReturned,
    SupplementRequested, SupplementReceived, PaymentRequested, PaymentReceived, DeadlineExtended,
    Stopped, Withdrawn, Approved, Rejected, ResultReady, ResultHandedOver, Overdue, DueSoon,
    HandoffAckOverdue,
)
