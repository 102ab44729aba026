"""The ward → city → ward path, step deadlines from shares, assignment, and the control slip."""

from __future__ import annotations

import re

import pytest
from processing_support import CITY, WARD, at, at_city, first, open_case, result_document, types, ward_snapshot

from services.processing.domain import CaseState, NotAllowed, SubState, Timeliness, control_slip
from services.processing.domain.events import HandoffAcknowledged, OfficerAssigned, ResultReady, Transferred


def test_open_computes_appointment_and_first_step_deadline() -> None:
    case, events = open_case()  # Mon 16/03 09:00, 5 working days
    assert types(events) == ["case.opened"]
    assert case.state is CaseState.RECEIVED and case.holder_agency == WARD
    assert case.appointment_at == case.original_appointment_at == at(23, 9)
    assert case.total_hours == 40
    receive = case.steps[0]
    assert (receive.started_at, receive.deadline) == (at(16, 9), at(16, 15))  # 0.1 × 40 h = 4 h
    assert all(s.started_at is None for s in case.steps[1:])


def test_cutoff_moves_counting_to_next_working_day() -> None:
    case, _ = open_case(ward_snapshot(), received=at(16, 16))  # after 15:00 with cutoff_15h
    assert case.steps[0].started_at == at(17, 7)
    assert case.steps[0].deadline == at(17, 15)  # 0.25 × 24 h = 6 h
    assert case.appointment_at == at(19, 17)


def test_ward_city_ward_path() -> None:
    case, all_events = open_case()
    events = case.transfer("desk1", CITY, at(16, 10))
    assert types(events) == ["case.transferred"]
    assert case.state is CaseState.PROCESSING and case.holder_agency == CITY
    assert first(events, Transferred).ack_due_at == at(16, 14)
    assign_step = case.steps[1]
    assert (assign_step.started_at, assign_step.deadline) == (at(16, 10), at(16, 16))
    all_events += events + case.acknowledge_transfer("city_clerk", at(16, 11))

    all_events += case.assign("head1", "spec1", at(16, 11), step_code="review")
    all_events += case.complete_step("head1", at(16, 11))
    review = case.steps[2]
    assert (review.assignee, review.started_at, review.deadline) == ("spec1", at(16, 11), at(18, 17))
    all_events += case.complete_step("spec1", at(19, 10), note="hồ sơ hợp lệ")  # a day late
    assert case.steps[3].deadline == at(20, 16)  # 0.3 × 40 = 12 h from Thu 10:00

    decided = case.approve("head1", at(19, 15))
    assert types(decided) == ["case.approved", "case.result_ready"]
    assert case.state is CaseState.RESULT_READY and case.sub_state is SubState.RESULT_AVAILABLE
    assert first(decided, ResultReady).resolution is Timeliness.EARLY
    all_events += decided

    returned = case.return_result("city_clerk", at(19, 16))
    assert types(returned) == ["case.result_returned"]
    assert case.holder_agency == WARD and case.sub_state is SubState.AWAITING_CONFIRMATION
    assert case.steps[4].deadline == case.appointment_at  # the share-0 return step is bound by the appointment
    ack = case.acknowledge_transfer("desk1", at(20, 8, 30))
    assert first(ack, HandoffAcknowledged).ack_late is True  # due Fri 08:00
    assert case.sub_state is SubState.AT_RETURN_DESK
    all_events += returned + ack

    done = case.result_handed_over(at(20, 10), "in_person", actor="desk1")
    assert case.state is CaseState.RETURNED and case.return_method == "in_person"
    all_events += done

    rows = control_slip(all_events)
    assert [(r.step_code, r.giver, r.receiver, r.receiver_agency, r.result) for r in rows] == [
        ("receive", "desk1", "department_head", CITY, Timeliness.ON_TIME),
        ("assign", "head1", "spec1", CITY, Timeliness.ON_TIME),
        ("review", "spec1", "department_head", CITY, Timeliness.LATE),
        ("sign", "head1", None, CITY, Timeliness.EARLY),
        (None, "city_clerk", "desk_officer", WARD, None),
        ("return", "desk1", "applicant", None, Timeliness.EARLY),
    ]
    assert rows[2].note == "hồ sơ hợp lệ" and rows[2].result_label == "Quá hạn"
    assert rows[0].giver_agency == WARD and rows[4].giver_agency == CITY
    assert rows[2].step_deadline == at(18, 17) and rows[2].handed_over_at == at(19, 10)


def test_ward_only_path_keeps_the_case_at_the_ward() -> None:
    case, _ = open_case(ward_snapshot(), received=at(16, 9))
    case.complete_step("desk1", at(16, 9, 30))
    assert case.state is CaseState.PROCESSING
    case.complete_step("spec1", at(17, 9))
    case.attach_result(result_document(), WARD, "spec1", at(17, 9, 30))  # the ward decides: its result file
    events = case.mark_result_ready("head1", at(17, 10), electronic=True)
    assert types(events) == ["case.result_ready"]
    assert events[0].handover and first(events, ResultReady).electronic
    assert case.sub_state is SubState.AT_RETURN_DESK and case.steps[3].started_at == at(17, 10)
    case.result_handed_over(at(17, 11), "post")
    assert case.state is CaseState.RETURNED


def test_reject_records_the_reason_in_the_slip() -> None:
    case, _ = open_case(ward_snapshot(), received=at(16, 9))
    case.complete_step("desk1", at(16, 10))
    events = case.reject("spec1", "không đủ điều kiện", at(16, 11))
    assert types(events) == ["case.rejected", "case.result_ready"]
    assert case.outcome == "rejected" and control_slip(events)[0].note == "không đủ điều kiện"


def test_transfer_must_go_to_the_agency_of_the_next_step() -> None:
    case, _ = open_case()
    with pytest.raises(NotAllowed, match=re.escape(f"next step 'assign' is done by {CITY}")):
        case.transfer("desk1", "000.00.13.H55", at(16, 10))
    assert case.state is CaseState.RECEIVED  # nothing changed by the refused command


def test_complete_step_refuses_to_cross_agencies() -> None:
    case, _ = open_case()
    with pytest.raises(NotAllowed, match="use transfer"):
        case.complete_step("desk1", at(16, 10))


def test_the_new_holder_must_acknowledge_before_acting() -> None:
    case, _ = open_case()
    case.transfer("desk1", CITY, at(16, 10))
    with pytest.raises(NotAllowed, match="not yet acknowledged the transfer"):
        case.complete_step("head1", at(16, 10, 30))
    case.acknowledge_transfer("city_clerk", at(16, 10, 45))
    assert types(case.complete_step("head1", at(16, 11))) == ["case.step_completed"]


def test_result_cannot_be_handed_over_while_still_at_the_city() -> None:
    case, _ = open_case()
    at_city(case, at(16, 10))
    case.complete_step("head1", at(16, 11))
    case.complete_step("spec1", at(17, 11))
    case.approve("head1", at(17, 15))
    with pytest.raises(NotAllowed, match=re.escape(f"still at {CITY}")):
        case.result_handed_over(at(17, 16), "in_person")
    case.return_result("clerk", at(17, 16))
    with pytest.raises(NotAllowed, match="not yet acknowledged the return"):
        case.result_handed_over(at(17, 16, 30), "in_person")


def test_assign_ahead_only_for_open_steps_of_the_holder() -> None:
    case, _ = open_case()
    with pytest.raises(NotAllowed, match=re.escape(f"step 'review' is done by {CITY}")):
        case.assign("desk_head", "spec1", at(16, 9), step_code="review")
    with pytest.raises(NotAllowed, match="no open step 'nope'"):
        case.assign("desk_head", "spec1", at(16, 9), step_code="nope")
    events = case.assign("desk_head", "desk1", at(16, 9))
    assert first(events, OfficerAssigned).officer == "desk1" and case.steps[0].assignee == "desk1"


def test_events_carry_actor_agency_time_and_step_status() -> None:
    case, _ = open_case()
    event = case.transfer("desk1", CITY, at(16, 16))  # receipt step was due 15:00
    data = event[0].to_dict()
    assert data["type"] == "case.transferred" and data["actor"] == "desk1" and data["agency"] == WARD
    assert data["at"] == "2026-03-16T16:00:00+07:00" and data["timeliness"] == "late"
    assert data["state"] == 4 and data["state_label"] == "Đang xử lý"
