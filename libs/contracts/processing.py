"""Events owned by processing (the workflow) on `onestop.processing.v1`.

Every transition of a case is one event: who, which agency, when, the state after it and — for
steps — the step deadline and its on-time status; the process-control slip is rebuilt from them."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from libs.contracts import topics
from libs.contracts.base import Event
from libs.contracts.common import DocumentManifest


class CaseEvent(Event):
    topic: ClassVar[str] = topics.PROCESSING
    source: ClassVar[str] = "/onestop/processing"

    actor: str  # officer id, "system" or "citizen"
    agency: str  # e-ID of the agency acting
    at: datetime
    state: int  # DVCQG state code 1–10 after the event
    state_label: str = ""
    sub_state: str | None = None
    step_code: str | None = None
    step_name: str | None = None
    step_deadline: datetime | None = None
    timeliness: str | None = None  # early | on_time | late, against step_deadline
    handover: bool = False  # a row of the process-control slip
    receiver: str | None = None
    receiver_agency: str | None = None
    note: str = ""


class CaseOpened(CaseEvent):
    ce_type: ClassVar[str] = "vn.onestop.case.opened.v1"
    procedure_code: str
    received_at: datetime
    appointment_at: datetime
    receiving_agency: str
    competent_agency: str
    supplement_policy: str
    total_hours: float


class OfficerAssigned(CaseEvent):
    ce_type: ClassVar[str] = "vn.onestop.case.assigned.v1"
    officer: str


class StepCompleted(CaseEvent):
    ce_type: ClassVar[str] = "vn.onestop.case.step_completed.v1"
    next_step_code: str | None = None


class Transferred(CaseEvent):
    """Ward → city department (liên thông); the receiver must acknowledge within 2 working hours."""

    ce_type: ClassVar[str] = "vn.onestop.case.transferred.v1"
    from_agency: str
    to_agency: str
    ack_due_at: datetime


class HandoffAcknowledged(CaseEvent):
    ce_type: ClassVar[str] = "vn.onestop.case.transfer_acknowledged.v1"
    kind: str  # transfer | return
    from_agency: str
    sent_at: datetime
    ack_due_at: datetime
    ack_late: bool


class ResultReturned(CaseEvent):
    """The competent agency sent the result back to the receiving desk (city → ward)."""

    ce_type: ClassVar[str] = "vn.onestop.case.result_returned.v1"
    from_agency: str
    to_agency: str
    ack_due_at: datetime


class SupplementRequested(CaseEvent):
    """Form 02 (Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ)."""

    ce_type: ClassVar[str] = "vn.onestop.case.supplement_requested.v1"
    items: list[str]
    reason: str
    policy: str  # pause | restart


class SupplementReceived(CaseEvent):
    ce_type: ClassVar[str] = "vn.onestop.case.supplement_received.v1"
    policy: str
    waited_hours: float
    previous_appointment_at: datetime
    appointment_at: datetime


class PaymentRequested(CaseEvent):
    ce_type: ClassVar[str] = "vn.onestop.case.payment_requested.v1"
    amount_vnd: int


class PaymentReceived(CaseEvent):
    ce_type: ClassVar[str] = "vn.onestop.case.payment_received.v1"
    amount_vnd: int
    waited_hours: float
    previous_appointment_at: datetime
    appointment_at: datetime


class DeadlineExtended(CaseEvent):
    """Form 04 (Phiếu xin lỗi và hẹn lại ngày trả kết quả): once, at least 1 working day ahead."""

    ce_type: ClassVar[str] = "vn.onestop.case.deadline_extended.v1"
    reason: str
    previous_appointment_at: datetime
    appointment_at: datetime


class Stopped(CaseEvent):
    """Thông báo dừng giải quyết hồ sơ (Form 05 of the 2025 set)."""

    ce_type: ClassVar[str] = "vn.onestop.case.stopped.v1"
    reason: str


class Withdrawn(CaseEvent):
    ce_type: ClassVar[str] = "vn.onestop.case.withdrawn.v1"
    reason: str = ""


class Approved(CaseEvent):
    ce_type: ClassVar[str] = "vn.onestop.case.approved.v1"


class Rejected(CaseEvent):
    ce_type: ClassVar[str] = "vn.onestop.case.rejected.v1"
    reason: str


class ResultReady(CaseEvent):
    """State 9 (Đã xử lý xong); `resolution` = early | on_time | late against the appointment."""

    ce_type: ClassVar[str] = "vn.onestop.case.result_ready.v1"
    outcome: str  # approved | rejected | done
    appointment_at: datetime
    resolution: str | None
    electronic: bool = False
    manifest: list[DocumentManifest] = Field(
        default_factory=list, description="the signed result file (kind result), when the result is electronic")


class CaseResultHandedOver(CaseEvent):
    ce_type: ClassVar[str] = "vn.onestop.case.result_handed_over.v1"
    method: str  # in_person | post | online


class Overdue(CaseEvent):
    ce_type: ClassVar[str] = "vn.onestop.case.overdue.v1"
    deadline: datetime
    responsible_agency: str


class DueSoon(CaseEvent):
    ce_type: ClassVar[str] = "vn.onestop.case.due_soon.v1"
    deadline: datetime
    hours_left: float


class HandoffAckOverdue(CaseEvent):
    """The receiving agency did not acknowledge a hand-over within 2 working hours (a warning)."""

    ce_type: ClassVar[str] = "vn.onestop.case.transfer_ack_overdue.v1"
    kind: str
    from_agency: str
    to_agency: str
    sent_at: datetime
    ack_due_at: datetime


def contract_type(domain_type: str) -> str:
    """`case.transferred` (a domain event's type) → `vn.onestop.case.transferred.v1`."""
    return f"vn.onestop.{domain_type}.v1"
