"""What happens to a received dossier at the desk (Bộ phận Một cửa): pure rules, no I/O.

The desk follows the workflow from processing's events (`follow`) and performs the counter moves
itself: the citizen hands in a supplement, withdraws the dossier, collects the result, rates the
service. An illegal move raises `IllegalMove` with the reason (HTTP 409)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.intake.domain.states import AT_RETURN_DESK, CITIZEN_SUBMITTED, WITHDRAWABLE, DeskState

HANDOVER_METHODS = ("in_person", "post")  # trả trực tiếp / qua dịch vụ bưu chính công ích
RATINGS = range(1, 6)  # rất không hài lòng (1) … rất hài lòng (5)
# Warnings about a case, not moves of it: kept in the history, never change the desk's state.
SIGNALS = frozenset({"case.due_soon", "case.overdue", "case.transfer_ack_overdue"})


class IllegalMove(Exception):
    """The move is not allowed in the dossier's current state; the message says why."""


class InvalidInput(ValueError):
    """The request itself is wrong whatever the state (e.g. a rating outside 1–5)."""


@dataclass
class DeskDossier:
    """The desk's mutable view of one dossier (the same names as the stored columns)."""

    code: str
    receiving_agency: str
    state: DeskState
    appointment_at: datetime | None = None
    sub_state: str | None = None
    current_step: str | None = None
    result_at_desk: bool = False
    electronic_result: bool = False
    supplement_submitted_at: datetime | None = None
    handover_method: str | None = None
    handed_over_at: datetime | None = None
    rating: int | None = None
    rated_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def supplement_handed_in(self) -> bool:
        return self.state == DeskState.SUPPLEMENT_REQUESTED and self.supplement_submitted_at is not None


@dataclass(frozen=True)
class CaseUpdate:
    """What the desk needs from one processing event (built from the contract by the handler)."""

    kind: str  # e.g. case.supplement_requested
    state_code: int  # DVCQG code after the event
    agency: str
    at: datetime
    sub_state: str | None = None
    step_name: str | None = None
    appointment_at: datetime | None = None  # set by events that move the appointment
    electronic: bool | None = None  # result_ready: the result is electronic


def kind_of(ce_type: str) -> str:
    """`vn.onestop.case.transferred.v1` → `case.transferred`."""
    return ce_type.removeprefix("vn.onestop.").rsplit(".v", 1)[0]


def follow(d: DeskDossier, update: CaseUpdate) -> bool:
    """Apply a workflow event; returns whether the state changed. A closed dossier stays closed."""
    if d.state.closed or update.kind in SIGNALS:
        return False
    before = d.state
    d.state = DeskState.from_code(update.state_code)
    d.sub_state = update.sub_state
    if update.step_name:
        d.current_step = update.step_name
    if update.appointment_at is not None:
        d.appointment_at = update.appointment_at
    if update.electronic is not None:
        d.electronic_result = update.electronic
    if d.state != DeskState.SUPPLEMENT_REQUESTED or update.kind == "case.supplement_requested":
        d.supplement_submitted_at = None  # a new request starts a new cycle
    elif d.supplement_submitted_at is not None:
        d.sub_state = CITIZEN_SUBMITTED
    d.result_at_desk = d.state == DeskState.RESULT_READY and (
        update.sub_state == AT_RETURN_DESK or (update.sub_state is None and update.agency == d.receiving_agency)
    )
    if d.state.closed:
        d.closed_at = update.at
    d.updated_at = update.at
    return d.state != before


def _describe(d: DeskDossier) -> str:
    return f"{d.state.value} ({d.state.code})"


def hand_in_supplement(d: DeskDossier, now: datetime) -> None:
    """The citizen brings the papers a supplement request (Form 02) asked for."""
    if d.state != DeskState.SUPPLEMENT_REQUESTED:
        raise IllegalMove(f"cannot hand in a supplement: no supplement was requested, the dossier is {_describe(d)}")
    if d.supplement_submitted_at is not None:
        raise IllegalMove(
            f"cannot hand in a supplement: it was already handed in at {d.supplement_submitted_at.isoformat()} "
            "and the processing agency has not taken it yet"
        )
    d.supplement_submitted_at = now
    d.sub_state = CITIZEN_SUBMITTED
    d.updated_at = now


def withdraw(d: DeskDossier, now: datetime) -> None:
    """The applicant takes the dossier back (rút hồ sơ)."""
    if d.state not in WITHDRAWABLE:
        raise IllegalMove(f"cannot withdraw: the dossier is {_describe(d)}")
    _close(d, DeskState.WITHDRAWN, now)


def hand_over(d: DeskDossier, method: str, now: datetime) -> None:
    """The result leaves the desk: into the citizen's hands or to the post (trả kết quả)."""
    if method not in HANDOVER_METHODS:
        raise InvalidInput(f"unknown hand-over method {method!r}; use one of {', '.join(HANDOVER_METHODS)}")
    if d.state != DeskState.RESULT_READY:
        raise IllegalMove(f"cannot hand over the result: the dossier is {_describe(d)}, not result_ready (9)")
    if not d.result_at_desk:
        raise IllegalMove("cannot hand over the result: it has not reached this desk yet")
    _close(d, DeskState.RETURNED, now)
    d.handover_method, d.handed_over_at = method, now


def rate(d: DeskDossier, rating: int, now: datetime) -> None:
    """The applicant's satisfaction rating: one per dossier, 1–5 (DOMAIN §6.1)."""
    if rating not in RATINGS:
        raise InvalidInput(f"the rating must be 1 to 5, not {rating}")
    if d.rating is not None and d.rated_at is not None:
        raise IllegalMove(
            f"this dossier was already rated ({d.rating}) at {d.rated_at.isoformat()}; one rating per dossier"
        )
    if d.state == DeskState.SUBMITTED:
        raise IllegalMove("cannot rate: the dossier has not been received yet")
    d.rating, d.rated_at = rating, now


def _close(d: DeskDossier, state: DeskState, now: datetime) -> None:
    d.state, d.sub_state, d.result_at_desk = state, None, False
    d.supplement_submitted_at = None
    d.closed_at = d.updated_at = now
