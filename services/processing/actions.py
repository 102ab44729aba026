"""Officer actions on a case: the request body of `POST /cases/{code}/actions`, one model per action.

Each model names the domain action `can_act` checks and runs the matching `Case` command; pydantic
turns a missing or malformed parameter into a 422 before anything is read or written."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from libs.identity import IsoDateTime
from services.processing.domain import Case, CaseEvent

Text = Annotated[str, Field(max_length=2000)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
# The result is electronic exactly when the competent agency attached its signed result file at intake
# (docs/domain.md §4.4). Left out, the attachment decides; given, it must agree (else 409 with the reason).
Electronic = Annotated[bool | None, Field(description="the result is the attached signed file; default: whether "
                                                      "one is attached")]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    domain: ClassVar[str]  # the action name `can_act` knows
    # The case `version` the officer's page showed. Given, a change another officer made since is refused
    # (409, naming it); changes by the system's own writers (sweep, consumers) are not the officer's concern.
    seen_version: int | None = Field(default=None, ge=1)

    @abstractmethod
    def run(self, case: Case, actor: str, now: datetime) -> list[CaseEvent]:
        """Run the matching `Case` command (every action model defines it)."""


class Assign(_Action):
    domain: ClassVar[str] = "assign"
    action: Literal["assign"]
    officer: str = Field(min_length=1, max_length=100)
    step_code: str | None = Field(default=None, max_length=64)  # a later step of this agency; default: current

    def run(self, case: Case, actor: str, now: datetime) -> list[CaseEvent]:
        return case.assign(actor, self.officer, now, self.step_code)


class CompleteStep(_Action):
    domain: ClassVar[str] = "complete_step"
    action: Literal["complete-step"]
    note: Text = ""

    def run(self, case: Case, actor: str, now: datetime) -> list[CaseEvent]:
        return case.complete_step(actor, now, self.note)


class Transfer(_Action):
    domain: ClassVar[str] = "transfer"
    action: Literal["transfer"]
    to_agency: str | None = Field(default=None, max_length=40)  # default: the agency of the next step
    note: Text = ""

    def run(self, case: Case, actor: str, now: datetime) -> list[CaseEvent]:
        following = case.next_step
        target = self.to_agency or (following.agency if following else "")
        return case.transfer(actor, target, now, self.note)


class Acknowledge(_Action):
    domain: ClassVar[str] = "acknowledge_transfer"
    action: Literal["acknowledge"]

    def run(self, case: Case, actor: str, now: datetime) -> list[CaseEvent]:
        return case.acknowledge_transfer(actor, now)


class Return(_Action):
    domain: ClassVar[str] = "return_result"
    action: Literal["return"]
    note: Text = ""

    def run(self, case: Case, actor: str, now: datetime) -> list[CaseEvent]:
        return case.return_result(actor, now, self.note)


class RequestSupplement(_Action):
    domain: ClassVar[str] = "request_supplement"
    action: Literal["request-supplement"]
    items: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(min_length=1, max_length=50)
    reason: Reason

    def run(self, case: Case, actor: str, now: datetime) -> list[CaseEvent]:
        return case.request_supplement(actor, self.items, self.reason, now)


class RequestPayment(_Action):
    domain: ClassVar[str] = "request_payment"
    action: Literal["request-payment"]
    amount_vnd: int = Field(gt=0, le=100_000_000_000)

    def run(self, case: Case, actor: str, now: datetime) -> list[CaseEvent]:
        return case.request_payment(actor, self.amount_vnd, now)


class PaymentReceived(_Action):
    """Recorded at the receiving desk when the citizen has paid."""

    domain: ClassVar[str] = "payment_received"
    action: Literal["payment-received"]

    def run(self, case: Case, actor: str, now: datetime) -> list[CaseEvent]:
        return case.payment_received(now, actor=actor)


class ExtendDeadline(_Action):
    """Apology and new appointment (Form 04): once, at least 1 working day before the deadline."""

    domain: ClassVar[str] = "extend"
    action: Literal["extend-deadline"]
    reason: Reason
    new_due: IsoDateTime

    def run(self, case: Case, actor: str, now: datetime) -> list[CaseEvent]:
        return case.extend(actor, self.reason, self.new_due, now)


class Stop(_Action):
    domain: ClassVar[str] = "stop"
    action: Literal["stop"]
    reason: Reason

    def run(self, case: Case, actor: str, now: datetime) -> list[CaseEvent]:
        return case.stop(actor, self.reason, now)


class Approve(_Action):
    domain: ClassVar[str] = "approve"
    action: Literal["approve"]
    note: Text = ""
    electronic: Electronic = None

    def run(self, case: Case, actor: str, now: datetime) -> list[CaseEvent]:
        return case.approve(actor, now, self.note, self.electronic)


class Reject(_Action):
    domain: ClassVar[str] = "reject"
    action: Literal["reject"]
    reason: Reason

    def run(self, case: Case, actor: str, now: datetime) -> list[CaseEvent]:
        return case.reject(actor, self.reason, now)


class ResultReady(_Action):
    domain: ClassVar[str] = "mark_result_ready"
    action: Literal["result-ready"]
    note: Text = ""
    electronic: Electronic = None

    def run(self, case: Case, actor: str, now: datetime) -> list[CaseEvent]:
        return case.mark_result_ready(actor, now, self.note, self.electronic)


Action = Annotated[
    Assign | CompleteStep | Transfer | Acknowledge | Return | RequestSupplement | RequestPayment | PaymentReceived
    | ExtendDeadline | Stop | Approve | Reject | ResultReady,
    Field(discriminator="action"),
]
