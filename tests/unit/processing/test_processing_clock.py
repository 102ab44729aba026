"""Stopping the clock (supplement pause / restart, payment) and the one-time extension (Form 04)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from processing_support import WARD, at, at_city, city_snapshot, first, open_case, types

from services.processing.domain import Case, CaseState, IllegalTransition, NotAllowed, SubState
from services.processing.domain.events import (
    DeadlineExtended,
    PaymentReceived,
    PaymentRequested,
    SupplementReceived,
)


def reviewing(policy: str = "pause") -> Case:
    """At the city, review step running Mon 11:00 → Wed 18/03 17:00; appointment Mon 23/03 09:00."""
    case, _ = open_case(city_snapshot(policy))
    at_city(case, at(16, 10))
    case.complete_step("head1", at(16, 11))
    return case


def test_supplement_pause_moves_appointment_by_the_hours_waited() -> None:
    case = reviewing("pause")
    requested = case.request_supplement("spec1", ["Bản vẽ thiết kế"], "thiếu bản vẽ", at(17, 9))
    assert types(requested) == ["case.supplement_requested"]
    assert case.state is CaseState.SUPPLEMENT_REQUESTED
    assert case.sub_state is SubState.ONE_STOP_SUPPLEMENT  # the city asks the ward desk
    received = case.supplement_received(at(19, 9))  # Tue 09:00 → Thu 09:00 = 16 working hours
    assert case.state is CaseState.PROCESSING and case.sub_state is None
    assert first(received, SupplementReceived).waited_hours == 16
    assert received[0].agency == WARD and received[0].actor == "citizen"
    assert case.appointment_at == at(25, 9)
    assert case.original_appointment_at == at(23, 9)
    assert case.steps[2].deadline == at(20, 17)  # the running step is paused too


def test_supplement_restart_counts_again_from_the_hand_in() -> None:
    case = reviewing("restart")
    case.request_supplement("spec1", ["Bản vẽ"], "thiếu bản vẽ", at(17, 9))
    received = case.supplement_received(at(19, 9))
    assert first(received, SupplementReceived).policy == "restart"
    assert case.appointment_at == at(26, 9)  # 5 working days from Thu 19/03 09:00
    review = case.steps[2]
    assert (review.started_at, review.deadline) == (at(19, 9), at(23, 15))  # 20 h from the hand-in


def test_supplement_asked_by_the_desk_is_a_citizen_supplement() -> None:
    case, _ = open_case()
    case.request_supplement("desk1", ["CCCD"], "ảnh mờ", at(16, 9, 30))
    assert case.sub_state is SubState.CITIZEN_SUPPLEMENT
    case.supplement_received(at(16, 10))
    assert case.state is CaseState.RECEIVED and case.appointment_at == at(23, 9, 30)


def test_waiting_for_payment_is_not_counted() -> None:
    case = reviewing()
    requested = case.request_payment("spec1", 500_000, at(17, 9))
    assert case.state is CaseState.PAYMENT_REQUESTED and case.sub_state is SubState.AWAITING_PAYMENT
    assert first(requested, PaymentRequested).amount_vnd == 500_000
    paid = case.payment_received(at(17, 14))  # 09:00–11:30 + 13:30–14:00 = 3 h
    payment = first(paid, PaymentReceived)
    assert payment.waited_hours == 3 and payment.amount_vnd == 500_000
    assert case.appointment_at == at(23, 14)  # Mon 09:00 + 3 h: 2.5 h to 11:30, 0.5 h after lunch
    assert case.state is CaseState.PROCESSING


def test_extension_moves_appointment_and_running_step() -> None:
    case = reviewing()
    events = case.extend("spec1", "cần xác minh thực địa", at(25, 9), at(17, 9))
    assert types(events) == ["case.deadline_extended"]
    event = first(events, DeadlineExtended)
    assert event.previous_appointment_at == at(23, 9) and event.appointment_at == at(25, 9)
    assert case.extended and case.appointment_at == at(25, 9)
    assert case.original_appointment_at == at(23, 9)
    assert case.steps[2].deadline == at(20, 17)  # shifted by the same 16 working hours


def test_extension_allowed_exactly_one_working_day_before() -> None:
    case = reviewing()  # appointment Mon 23/03 09:00 → last moment Fri 20/03 09:00
    case.extend("spec1", "chờ ý kiến sở khác", at(25, 17), at(20, 9))
    assert case.appointment_at == at(25, 17)


def test_extension_refused_later_than_one_working_day_before() -> None:
    case = reviewing()
    reason = (
        "the apology must come at least 1 working day before the appointment 09:00 23/03/2026, "
        "i.e. by 09:00 20/03/2026"
    )
    with pytest.raises(NotAllowed, match=re.escape(reason)):
        case.extend("spec1", "chậm", at(25, 17), at(20, 9, 1))
    assert not case.extended


def test_extension_refused_twice() -> None:
    case = reviewing()
    case.extend("spec1", "lần một", at(25, 9), at(17, 9))
    with pytest.raises(NotAllowed, match=re.escape("already extended once (Form 04 only once)")):
        case.extend("spec1", "lần hai", at(27, 9), at(18, 9))


@pytest.mark.parametrize(
    ("reason", "new_due", "message"),
    [
        ("", at(25, 9), "reason for the delay is required"),
        ("chậm", at(23, 9), "must be later than the current appointment 09:00 23/03/2026"),
        ("chậm", at(20, 9), "must be later than the current appointment"),
    ],
)
def test_extension_needs_a_reason_and_a_later_date(reason: str, new_due: datetime, message: str) -> None:
    case = reviewing()
    with pytest.raises(NotAllowed, match=re.escape(message)):
        case.extend("spec1", reason, new_due, at(17, 9))


def test_extension_refused_once_the_result_is_ready() -> None:
    case = reviewing()
    case.complete_step("spec1", at(17, 9))
    case.approve("head1", at(17, 10))
    with pytest.raises(IllegalTransition, match="cannot extend the appointment"):
        case.extend("head1", "chậm", at(25, 9), at(17, 11))


def test_a_pause_after_an_extension_moves_the_new_date_by_office_hours() -> None:
    case = reviewing()
    case.extend("spec1", "cần xác minh", at(27, 16), at(17, 9))  # Fri 27/03 16:00
    case.request_payment("spec1", 500_000, at(18, 9))
    case.payment_received(at(18, 11))  # 2 office hours
    assert case.appointment_at == at(30, 8)  # Fri 16:00 + 1 h to closing, + 1 h on Monday: not Sat 01:00
    assert case.original_appointment_at == at(23, 9)  # as printed on Form 01


def test_a_calendar_day_procedure_ignores_the_cutoff() -> None:
    # Art. 147: from the day after receipt; the 15:00 cut-off belongs to working-day and same-day limits only.
    procedure = {**city_snapshot(), "time_limit": {"value": 3, "unit": "days"}, "cutoff_15h": True}
    case, _ = open_case(procedure, received=at(6, 16))  # Fri 06/03 16:00
    assert not case.procedure.cutoff
    assert case.appointment_at == at(9, 17)  # Sat, Sun, Mon → Mon 09/03 17:00 (not Wed 11/03)
    assert case.steps[0].started_at == at(6, 16)  # the receipt step starts at once, not on Monday
    assert case.total_hours == 9  # Fri 16:00–17:00 + Monday


def test_the_cutoff_still_applies_to_working_days() -> None:
    procedure = {**city_snapshot(days=1), "cutoff_15h": True}
    late, _ = open_case(procedure, received=at(3, 15, 1))  # Tue 03/03 15:01
    sharp, _ = open_case(procedure, received=at(3, 15))
    assert late.procedure.cutoff and late.appointment_at == at(4, 17)
    assert sharp.appointment_at == at(4, 15)
