"""can_act: desk actions at the receiving desk, workflow actions at the agency holding the step, and the one
who verified a dossier never signs it as head."""

from __future__ import annotations

import pytest
from processing_support import CITY, OTHER_WARD, WARD, at, at_city, open_case, ward_snapshot

from libs.auth import ROLES
from services.processing.domain import Case, can_act
from services.processing.domain.authz import verifiers


def test_desk_actions_need_a_desk_officer_of_the_receiving_ward() -> None:
    case, _ = open_case()
    assert can_act(case, "withdraw", WARD, ["desk_officer"], officer="o1")
    denied = can_act(case, "result_handed_over", CITY, ["desk_officer"], officer="o1")
    assert not denied and denied.reason == f"only the receiving desk {WARD} may do this"
    refused = can_act(case, "supplement_received", WARD, ["specialist"], officer="o1")
    assert refused.reason == "needs the role desk_officer"


def test_workflow_actions_follow_the_holder() -> None:
    case, _ = open_case()
    assert can_act(case, "transfer", WARD, ["desk_officer"], officer="o1")  # the receipt step is a desk step
    assert not can_act(case, "transfer", OTHER_WARD, ["desk_officer"], officer="o1")
    at_city(case, at(16, 10))
    denied = can_act(case, "complete_step", WARD, ["department_head"], officer="o1")
    assert denied.reason == f"the case is held by {CITY}, not by {WARD}"
    assert can_act(case, "assign", CITY, ["department_head"], officer="o1")
    assert can_act(case, "approve", CITY, ["specialist"], officer="o1")
    refused = can_act(case, "approve", CITY, ["desk_officer"], officer="o1")
    assert refused.reason == "needs one of the roles department_head, specialist"


def test_acknowledge_only_by_the_agency_that_received_the_hand_over() -> None:
    case, _ = open_case()
    assert can_act(case, "acknowledge_transfer", CITY, ["specialist"], officer="o1").reason.startswith("no hand-over")
    case.transfer("desk1", CITY, at(16, 10))
    assert can_act(case, "acknowledge_transfer", CITY, ["desk_officer"], officer="o1")
    assert not can_act(case, "acknowledge_transfer", WARD, ["desk_officer"], officer="o1")
    assert not can_act(case, "acknowledge_transfer", CITY, ["report_viewer"], officer="o1")


def test_unknown_action() -> None:
    case, _ = open_case()
    assert can_act(case, "teleport", WARD, ["admin"], officer="o1").reason == "unknown action 'teleport'"


def reviewed_by(officer: str) -> Case:
    """A city case whose verification step (review) `officer` completed; the head's step (sign) is in progress."""
    case, _ = open_case()
    at_city(case, at(16, 10))
    case.complete_step("head1", at(16, 11))  # assign
    case.complete_step(officer, at(16, 14))  # review (thẩm định)
    assert case.active_step is not None and case.active_step.code == "sign"
    return case


@pytest.mark.parametrize("action", ["approve", "reject", "mark_result_ready", "complete_step"])
def test_the_officer_who_verified_cannot_sign_as_head(action: str) -> None:
    case = reviewed_by("spec1")
    for roles in (["department_head"], ["specialist", "department_head"], ["admin", *ROLES]):
        refused = can_act(case, action, CITY, roles, officer="spec1")
        assert not refused and refused.reason.startswith("the officer who verified this dossier cannot also sign")
    assert can_act(case, action, CITY, ["department_head"], officer="head2")


def test_the_verifier_may_still_do_what_is_not_signing() -> None:
    case = reviewed_by("spec1")
    for action in ("assign", "extend", "stop", "request_supplement"):
        assert can_act(case, action, CITY, ["specialist"], officer="spec1"), action
    assert verifiers(case) == {"spec1"}


def test_the_head_who_assigned_may_sign_when_someone_else_verified() -> None:
    case = reviewed_by("spec1")
    assert "head1" not in verifiers(case)  # completing the head's own assignment step verifies nothing
    assert can_act(case, "approve", CITY, ["department_head"], officer="head1")


def test_deciding_on_the_verification_step_itself_is_verifying_and_signing_at_once() -> None:
    case, _ = open_case(ward_snapshot())
    case.complete_step("desk1", at(16, 10))  # receipt → process (specialist)
    refused = can_act(case, "approve", WARD, ["department_head"], officer="head1")
    assert not refused and "cannot also sign" in refused.reason
    case.complete_step("spec1", at(16, 11))  # process done: the head's step
    assert can_act(case, "approve", WARD, ["department_head"], officer="head1")
    assert not can_act(case, "approve", WARD, ["department_head"], officer="spec1")
