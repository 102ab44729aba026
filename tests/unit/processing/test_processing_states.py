"""The ten DVCQG states: every legal transition through a command, and a table of refused ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from processing_support import CITY, at, open_case, ward_snapshot

from services.processing.domain import (
    TRANSITIONS,
    Case,
    CaseState,
    DomainError,
    IllegalTransition,
    NotAllowed,
)

S = CaseState
NOW = at(18, 9)


def test_codes_and_labels() -> None:
    assert [s.value for s in S] == list(range(1, 11))
    assert S.RESULT_READY.label == "Đã xử lý xong" and S.RETURNED.label == "Đã trả kết quả"
    assert {s for s in S if s.is_terminal} == {S.REFUSED, S.WITHDRAWN, S.STOPPED, S.RETURNED}


# --- building a case in a given state -------------------------------------------------------

def in_received() -> Case:
    return open_case(ward_snapshot(), received=at(16, 9))[0]


def in_processing() -> Case:
    case = in_received()
    case.complete_step("desk1", at(16, 10))
    return case


def paused(base: Callable[[], Case], kind: str) -> Callable[[], Case]:
    def build() -> Case:
        case = base()
        if kind == "supplement":
            case.request_supplement("spec1", ["Giấy tờ"], "thiếu", at(17, 9))
        else:
            case.request_payment("spec1", 50_000, at(17, 9))
        return case

    return build


def in_result_ready() -> Case:
    case = in_processing()
    case.approve("spec1", at(17, 9))
    return case


def in_returned() -> Case:
    case = in_result_ready()
    case.result_handed_over(at(17, 10), "in_person")
    return case


def in_stopped() -> Case:
    case = in_processing()
    case.stop("head1", "người nộp không liên hệ", at(17, 9))
    return case


def in_withdrawn() -> Case:
    case = in_processing()
    case.withdraw(at(17, 9))
    return case


def Call(name: str, *args: Any, **kwargs: Any) -> Callable[[Case], Any]:
    return lambda case: getattr(case, name)(*args, **kwargs)


LEGAL: list[tuple[Callable[[], Case], Callable[[Case], Any], S, S]] = [
    (in_received, Call("complete_step", "desk1", NOW), S.RECEIVED, S.PROCESSING),
    (in_received, Call("request_supplement", "desk1", ["CCCD"], "mờ", NOW), S.RECEIVED, S.SUPPLEMENT_REQUESTED),
    (in_received, Call("request_payment", "desk1", 10_000, NOW), S.RECEIVED, S.PAYMENT_REQUESTED),
    (in_received, Call("withdraw", NOW), S.RECEIVED, S.WITHDRAWN),
    (in_received, Call("stop", "desk1", "lý do", NOW), S.RECEIVED, S.STOPPED),
    (in_processing, Call("request_supplement", "s", ["x"], "y", NOW), S.PROCESSING, S.SUPPLEMENT_REQUESTED),
    (in_processing, Call("request_payment", "s", 1, NOW), S.PROCESSING, S.PAYMENT_REQUESTED),
    (in_processing, Call("withdraw", NOW), S.PROCESSING, S.WITHDRAWN),
    (in_processing, Call("stop", "s", "lý do", NOW), S.PROCESSING, S.STOPPED),
    (in_processing, Call("approve", "s", NOW), S.PROCESSING, S.RESULT_READY),
    (paused(in_received, "supplement"), Call("supplement_received", NOW), S.SUPPLEMENT_REQUESTED, S.RECEIVED),
    (paused(in_processing, "supplement"), Call("supplement_received", NOW), S.SUPPLEMENT_REQUESTED,
     S.PROCESSING),
    (paused(in_processing, "supplement"), Call("withdraw", NOW), S.SUPPLEMENT_REQUESTED, S.WITHDRAWN),
    (paused(in_processing, "supplement"), Call("stop", "s", "r", NOW), S.SUPPLEMENT_REQUESTED, S.STOPPED),
    (paused(in_received, "payment"), Call("payment_received", NOW), S.PAYMENT_REQUESTED, S.RECEIVED),
    (paused(in_processing, "payment"), Call("payment_received", NOW), S.PAYMENT_REQUESTED, S.PROCESSING),
    (paused(in_processing, "payment"), Call("withdraw", NOW), S.PAYMENT_REQUESTED, S.WITHDRAWN),
    (paused(in_processing, "payment"), Call("stop", "s", "r", NOW), S.PAYMENT_REQUESTED, S.STOPPED),
    (in_result_ready, Call("result_handed_over", NOW, "online"), S.RESULT_READY, S.RETURNED),
]


@pytest.mark.parametrize(("build", "command", "source", "target"), LEGAL)
def test_legal_transition(build: Callable[[], Case], command: Callable[[Case], Any], source: S, target: S) -> None:
    case = build()
    assert case.state is source
    events = command(case)
    assert case.state is target and events and events[-1].state is target


def test_every_transition_of_processing_is_exercised() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() if a is not S.SUBMITTED for b in targets}
    assert table == {(source, target) for _, _, source, target in LEGAL}


def test_reject_and_mark_ready_also_lead_to_result_ready() -> None:
    for command in (Call("reject", "s", "không đủ điều kiện", NOW), Call("mark_result_ready", "s", NOW)):
        case = in_processing()
        command(case)
        assert case.state is S.RESULT_READY


ILLEGAL: list[tuple[str, Callable[[], Case], Callable[[Case], Any], type[DomainError], str]] = [
    ("approve before processing", in_received, Call("approve", "s", NOW), IllegalTransition,
     "cannot approve: the case is received"),
    ("result ready at receipt", in_received, Call("mark_result_ready", "s", NOW), IllegalTransition,
     "received"),
    ("complete while waiting", paused(in_processing, "supplement"), Call("complete_step", "s", NOW),
     IllegalTransition, "supplement_requested"),
    ("supplement after result", in_result_ready, Call("request_supplement", "s", ["x"], "y", NOW),
     IllegalTransition, "result_ready"),
    ("supplement not requested", in_processing, Call("supplement_received", NOW), IllegalTransition,
     "cannot receive a supplement"),
    ("payment not requested", paused(in_processing, "supplement"), Call("payment_received", NOW),
     IllegalTransition, "cannot record a payment"),
    ("hand over unfinished", in_processing, Call("result_handed_over", NOW, "post"), IllegalTransition,
     "processing"),
    ("withdraw after result", in_result_ready, Call("withdraw", NOW), IllegalTransition, "result_ready"),
    ("stop after result", in_result_ready, Call("stop", "s", "r", NOW), IllegalTransition, "result_ready"),
    ("extend while waiting", paused(in_processing, "payment"),
     Call("extend", "s", "r", at(30, 9), NOW), IllegalTransition, "payment_requested"),
    ("transfer after result", in_result_ready, Call("transfer", "s", CITY, NOW), IllegalTransition,
     "result_ready"),
    ("return before result", in_processing, Call("return_result", "s", NOW), IllegalTransition, "processing"),
    ("assign a stopped case", in_stopped, Call("assign", "s", "o", NOW), IllegalTransition, "stopped"),
    ("approve a withdrawn case", in_withdrawn, Call("approve", "s", NOW), IllegalTransition, "withdrawn"),
    ("withdraw twice", in_withdrawn, Call("withdraw", NOW), IllegalTransition, "withdrawn"),
    ("anything after return", in_returned, Call("stop", "s", "r", NOW), IllegalTransition, "returned"),
    ("acknowledge nothing", in_processing, Call("acknowledge_transfer", "s", NOW), NotAllowed,
     "no hand-over is waiting"),
    ("approve at a desk step", lambda: desk_check_plan(), Call("approve", "s", NOW), NotAllowed,
     "not to the receiving step 'check'"),
    ("reject without reason", in_processing, Call("reject", "s", "  ", NOW), NotAllowed, "reason is required"),
    ("stop without reason", in_processing, Call("stop", "s", "", NOW), NotAllowed, "reason is required"),
    ("supplement with no papers", in_processing, Call("request_supplement", "s", [" "], "y", NOW), NotAllowed,
     "at least one"),
    ("free payment", in_processing, Call("request_payment", "s", 0, NOW), NotAllowed, "above 0 VND"),
    ("unknown hand-over", in_result_ready, Call("result_handed_over", NOW, "drone"), NotAllowed,
     "unknown method"),
]


def desk_check_plan() -> Case:
    """Processing, with a second desk step (a completeness check) in progress."""
    snapshot = ward_snapshot()
    snapshot["steps"].insert(
        1, {"code": "check", "name": "Kiểm tra", "owner": "receiving", "role": "desk_officer", "share": 0.25}
    )
    snapshot["steps"][2]["share"] = 0.25
    case = open_case(snapshot, received=at(16, 9))[0]
    case.complete_step("desk1", at(16, 10))
    return case


@pytest.mark.parametrize(("label", "build", "command", "error", "reason"), ILLEGAL, ids=[r[0] for r in ILLEGAL])
def test_refused(
    label: str, build: Callable[[], Case], command: Callable[[Case], Any], error: type[DomainError], reason: str
) -> None:
    case = build()
    before = case.to_dict()
    with pytest.raises(error, match=reason) as caught:
        command(case)
    assert caught.value.reason == str(caught.value)
    assert case.to_dict() == before  # a refused command changes nothing


def test_naive_time_is_a_programming_error() -> None:
    case = in_processing()
    with pytest.raises(ValueError, match="timezone-aware"):
        case.approve("s", NOW.replace(tzinfo=None))
