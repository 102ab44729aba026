"""can_act: desk actions at the receiving desk, workflow actions at the agency holding the step."""

from __future__ import annotations

from processing_support import CITY, OTHER_WARD, WARD, at, at_city, open_case

from services.processing.domain import can_act


def test_desk_actions_need_a_desk_officer_of_the_receiving_ward() -> None:
    case, _ = open_case()
    assert can_act(case, "withdraw", WARD, ["desk_officer"])
    denied = can_act(case, "result_handed_over", CITY, ["desk_officer"])
    assert not denied and denied.reason == f"only the receiving desk {WARD} may do this"
    assert can_act(case, "supplement_received", WARD, ["specialist"]).reason == "needs the role desk_officer"


def test_workflow_actions_follow_the_holder() -> None:
    case, _ = open_case()
    assert can_act(case, "transfer", WARD, ["desk_officer"])  # the receipt step is a desk step
    assert not can_act(case, "transfer", OTHER_WARD, ["desk_officer"])
    at_city(case, at(16, 10))
    denied = can_act(case, "complete_step", WARD, ["department_head"])
    assert denied.reason == f"the case is held by {CITY}, not by {WARD}"
    assert can_act(case, "assign", CITY, ["department_head"])
    assert can_act(case, "approve", CITY, ["specialist"])
    refused = can_act(case, "approve", CITY, ["desk_officer"])
    assert refused.reason == "needs one of the roles department_head, specialist"


def test_acknowledge_only_by_the_agency_that_received_the_hand_over() -> None:
    case, _ = open_case()
    assert can_act(case, "acknowledge_transfer", CITY, ["specialist"]).reason.startswith("no hand-over")
    case.transfer("desk1", CITY, at(16, 10))
    assert can_act(case, "acknowledge_transfer", CITY, ["desk_officer"])
    assert not can_act(case, "acknowledge_transfer", WARD, ["desk_officer"])
    assert not can_act(case, "acknowledge_transfer", CITY, ["report_viewer"])


def test_unknown_action() -> None:
    case, _ = open_case()
    assert can_act(case, "teleport", WARD, ["admin"]).reason == "unknown action 'teleport'"
