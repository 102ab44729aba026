"""Dossier states (trạng thái hồ sơ) with the DVCQG codes 1–10, sub-states, and the legal moves."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from services.processing.domain.errors import IllegalTransition


class CaseState(IntEnum):
    """TrangThaiHoSoId as synchronised with the national portal (DOMAIN §1.5)."""

    SUBMITTED = 1
    RECEIVED = 2
    REFUSED = 3
    PROCESSING = 4
    SUPPLEMENT_REQUESTED = 5
    PAYMENT_REQUESTED = 6
    WITHDRAWN = 7
    STOPPED = 8
    RESULT_READY = 9
    RETURNED = 10

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]

    @property
    def is_terminal(self) -> bool:
        return not TRANSITIONS[self]


_STATE_LABELS = {
    CaseState.SUBMITTED: "Mới đăng ký",
    CaseState.RECEIVED: "Được tiếp nhận",
    CaseState.REFUSED: "Không được tiếp nhận",
    CaseState.PROCESSING: "Đang xử lý",
    CaseState.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung giấy tờ",
    CaseState.PAYMENT_REQUESTED: "Yêu cầu thực hiện nghĩa vụ tài chính",
    CaseState.WITHDRAWN: "Công dân yêu cầu rút hồ sơ",
    CaseState.STOPPED: "Dừng xử lý",
    CaseState.RESULT_READY: "Đã xử lý xong",
    CaseState.RETURNED: "Đã trả kết quả",
}


class SubState(StrEnum):
    """Finer positions inside states 5, 6 and 9 (DOMAIN §1.5 sub-states)."""

    ONE_STOP_SUPPLEMENT = "one_stop_supplement"  # the competent agency asks the desk to collect papers
    CITIZEN_SUPPLEMENT = "citizen_supplement"  # the desk asks the citizen directly
    AWAITING_PAYMENT = "awaiting_payment"
    RESULT_AVAILABLE = "result_available"  # result exists at the agency that produced it
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # sent back to the ward, not yet acknowledged
    AT_RETURN_DESK = "at_return_desk"  # at the receiving desk, ready to hand over

    @property
    def label(self) -> str:
        return _SUB_LABELS[self]


_SUB_LABELS = {
    SubState.ONE_STOP_SUPPLEMENT: "Yêu cầu một cửa bổ sung",
    SubState.CITIZEN_SUPPLEMENT: "Yêu cầu công dân bổ sung",
    SubState.AWAITING_PAYMENT: "Chờ thực hiện nghĩa vụ tài chính",
    SubState.RESULT_AVAILABLE: "Đã có kết quả",
    SubState.AWAITING_CONFIRMATION: "Chờ xác nhận kết quả",
    SubState.AT_RETURN_DESK: "Đã chuyển bộ phận trả kết quả",
}

_S = CaseState
_PAUSABLE_EXITS = frozenset({_S.RECEIVED, _S.PROCESSING, _S.WITHDRAWN, _S.STOPPED})

# Every legal move. States 1 and 3 belong to the desk (intake) but are kept so the table is whole.
TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    _S.SUBMITTED: frozenset({_S.RECEIVED, _S.REFUSED, _S.WITHDRAWN}),
    _S.RECEIVED: frozenset(
        {_S.PROCESSING, _S.SUPPLEMENT_REQUESTED, _S.PAYMENT_REQUESTED, _S.WITHDRAWN, _S.STOPPED}
    ),
    _S.PROCESSING: frozenset(
        {_S.SUPPLEMENT_REQUESTED, _S.PAYMENT_REQUESTED, _S.WITHDRAWN, _S.STOPPED, _S.RESULT_READY}
    ),
    _S.SUPPLEMENT_REQUESTED: _PAUSABLE_EXITS,
    _S.PAYMENT_REQUESTED: _PAUSABLE_EXITS,
    _S.RESULT_READY: frozenset({_S.RETURNED}),
    _S.REFUSED: frozenset(),
    _S.WITHDRAWN: frozenset(),
    _S.STOPPED: frozenset(),
    _S.RETURNED: frozenset(),
}

# States in which the statutory clock runs (paused while the citizen owes papers or money).
CLOCK_RUNNING = frozenset({_S.RECEIVED, _S.PROCESSING})


def describe(state: CaseState) -> str:
    return f"{state.name.lower()} ({state.value}, {state.label})"


def ensure_transition(current: CaseState, target: CaseState, action: str) -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"cannot {action}: the case is {describe(current)}")


def ensure_state(current: CaseState, allowed: frozenset[CaseState], action: str) -> None:
    """For commands that keep the state (assign, acknowledge…) but need it to be one of `allowed`."""
    if current not in allowed:
        raise IllegalTransition(f"cannot {action}: the case is {describe(current)}")
