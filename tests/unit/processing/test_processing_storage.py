"""Case ⇄ dict round trips, and random command sequences that never break the invariants."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from processing_support import CITY, WARD, at, calendar, city_snapshot, open_case, ward_snapshot

from services.processing.domain import Case, CaseState, DomainError, control_slip, sweep
from services.processing.store import cases as store
from services.processing.store.tables import CASES

CAL = calendar()


def round_trip(case: Case) -> Case:
    return Case.from_dict(json.loads(json.dumps(case.to_dict())), CAL)


def test_round_trip_keeps_everything() -> None:
    case, _ = open_case()
    case.transfer("desk1", CITY, at(16, 10))
    sweep([case], at(16, 15), CAL)
    copy = round_trip(case)
    assert copy.to_dict() == case.to_dict()
    assert copy.pending_handoff is not None and copy.flags == {"ack_overdue#0"}
    copy.acknowledge_transfer("clerk", at(16, 16))  # the copy keeps working
    assert copy.steps[1].started_at == at(16, 10)


COMMANDS = [
    "assign", "complete_step", "transfer_city", "ack", "return_result", "request_supplement",
    "supplement_received", "request_payment", "payment_received", "extend", "approve", "reject",
    "mark_result_ready", "handed_over", "sweep",
]
# Always legal while open, so they only come last: otherwise most runs would end at once.
ENDINGS = ["stop", "withdraw", "sweep"]


def run(case: Case, name: str, now: Any) -> list[Any]:
    actions = {
        "assign": lambda: case.assign("head", "spec", now),
        "complete_step": lambda: case.complete_step("spec", now, "ok"),
        "transfer_city": lambda: case.transfer("desk", CITY, now),
        "ack": lambda: case.acknowledge_transfer("clerk", now),
        "return_result": lambda: case.return_result("clerk", now),
        "request_supplement": lambda: case.request_supplement("spec", ["giấy"], "thiếu", now),
        "supplement_received": lambda: case.supplement_received(now),
        "request_payment": lambda: case.request_payment("spec", 1000, now),
        "payment_received": lambda: case.payment_received(now),
        "extend": lambda: case.extend("spec", "chậm", case.appointment_at + timedelta(days=3), now),
        "stop": lambda: case.stop("head", "dừng", now),
        "withdraw": lambda: case.withdraw(now),
        "approve": lambda: case.approve("head", now),
        "reject": lambda: case.reject("head", "không đạt", now),
        "mark_result_ready": lambda: case.mark_result_ready("head", now),
        "handed_over": lambda: case.result_handed_over(now, "in_person"),
        "sweep": lambda: sweep([case], now, CAL),
    }
    return actions[name]()


def check_invariants(case: Case) -> None:
    active = [s for s in case.steps if s.is_active]
    assert len(active) <= 1
    if active:
        assert active[0] is case.steps[case.current] and active[0].agency == case.holder_agency
    assert all(s.completed_at is not None or s.skipped for s in case.steps[: case.current])
    assert (case.paused_since is not None) == (
        case.state in (CaseState.SUPPLEMENT_REQUESTED, CaseState.PAYMENT_REQUESTED)
    )
    assert case.state not in (CaseState.SUBMITTED, CaseState.REFUSED)
    if case.state is CaseState.RETURNED:
        assert case.holder_agency == WARD and case.closed_at is not None


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    city=st.booleans(),
    policy=st.sampled_from(["pause", "restart"]),
    script=st.lists(st.tuples(st.sampled_from(COMMANDS), st.integers(0, 30)), max_size=30),
    ending=st.sampled_from(ENDINGS),
)
def test_random_command_sequences(city: bool, policy: str, script: list[tuple[str, int]], ending: str) -> None:
    case, events = open_case(city_snapshot(policy) if city else ward_snapshot(policy))
    now = at(16, 9)
    for name, hours in [*script, (ending, 1)]:
        now += timedelta(hours=hours)
        before = case.to_dict()
        try:
            events += run(case, name, now)
        except DomainError:
            assert case.to_dict() == before  # refused commands are atomic
        check_invariants(case)
        assert round_trip(case).to_dict() == case.to_dict()
    for event in events:
        json.dumps(event.to_dict())
    assert len([e for e in events if e.type == "case.overdue"]) <= 1 + int(case.extended)
    slip = control_slip(events)
    assert [r.handed_over_at for r in slip] == sorted(r.handed_over_at for r in slip)


def test_the_prebuilt_save_writes_every_query_column() -> None:
    """`store.save` binds `columns(case)` into a statement built once: it must name each of them."""
    case, _ = open_case()
    assert set(store._SAVED) == {*store.columns(case), "updated_at", "event_seq"}
    row = store.new_values(case, at(16, 9), event_seq=1)
    assert set(row) == {c.name for c in CASES.columns}
