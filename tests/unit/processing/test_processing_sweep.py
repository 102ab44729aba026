"""Overdue sweep, due-soon warnings and the 2-working-hour acknowledgement warning: each raised once."""

from __future__ import annotations

from datetime import timedelta

from processing_support import CITY, at, at_city, city_snapshot, first, open_case, types

from libs.calendar import WorkCalendar
from services.processing.domain import Case, CaseEvent, CaseState, sweep
from services.processing.domain.events import DueSoon, HandoffAcknowledged, HandoffAckOverdue, Overdue


def processing(policy: str = "pause") -> Case:
    """Appointment Mon 23/03 09:00, at the city, review running."""
    case, _ = open_case(city_snapshot(policy))
    at_city(case, at(16, 10))
    case.complete_step("head1", at(16, 11))
    return case


def of_type(events: list[CaseEvent], kind: str) -> list[CaseEvent]:
    return [e for e in events if e.type == kind]


def test_overdue_once_across_repeated_sweeps_and_clock_jumps(cal: WorkCalendar) -> None:
    case = processing()
    moments = [at(16, 12), at(23, 9), at(23, 9, 1), at(23, 9, 1), at(24, 10), at(20, 9), at(30, 8, month=4)]
    events = [e for now in moments for e in sweep([case], now, cal)]
    overdue = of_type(events, "case.overdue")
    assert len(overdue) == 1
    flagged = first(overdue, Overdue)
    assert flagged.at == at(23, 9, 1) and flagged.actor == "system" and flagged.agency == CITY
    assert flagged.deadline == at(23, 9) and flagged.responsible_agency == CITY
    assert flagged.step_code == "review" and flagged.timeliness == "late"


def test_a_first_sweep_long_after_the_deadline_reports_overdue_only(cal: WorkCalendar) -> None:
    case = processing()
    assert types(sweep([case], at(1, 9, month=5), cal)) == ["case.overdue"]
    assert sweep([case], at(2, 9, month=5), cal) == []


def test_moving_the_deadline_without_extension_does_not_flag_again(cal: WorkCalendar) -> None:
    case = processing("restart")
    assert types(sweep([case], at(23, 10), cal)) == ["case.overdue"]
    case.request_supplement("spec1", ["Bản vẽ"], "thiếu", at(23, 10))
    assert sweep([case], at(27, 10), cal) == []  # waiting for the citizen: clock stopped
    case.supplement_received(at(24, 9))  # restart: new appointment Tue 31/03 09:00
    assert case.appointment_at == at(31, 9)
    later = [e for day in (31, 1) for e in sweep([case], at(day, 10, month=3 if day == 31 else 4), cal)]
    assert of_type(later, "case.overdue") == []


def test_an_extended_deadline_that_passes_is_flagged_once_more(cal: WorkCalendar) -> None:
    case = processing()
    case.extend("spec1", "xác minh", at(25, 17), at(18, 9))
    sweeps = [at(23, 9, 30), at(25, 16), at(25, 17, 1), at(26, 9), at(27, 9)]
    events = [e for now in sweeps for e in sweep([case], now, cal)]
    assert [(e.type, e.at) for e in events] == [
        ("case.due_soon", at(25, 16)),
        ("case.overdue", at(25, 17, 1)),
    ]


def test_an_overdue_case_extended_after_a_restart_is_flagged_again(cal: WorkCalendar) -> None:
    case = processing("restart")
    assert types(sweep([case], at(23, 10), cal)) == ["case.overdue"]
    case.request_supplement("spec1", ["Bản vẽ"], "thiếu", at(23, 10))
    case.supplement_received(at(24, 9))  # appointment Tue 31/03 09:00
    case.extend("spec1", "chờ ý kiến", at(2, 17, month=4), at(25, 9))
    events = [e for now in (at(2, 17, 1, month=4), at(3, 9, month=4)) for e in sweep([case], now, cal)]
    assert types(events) == ["case.overdue"]


def test_due_soon_once_per_deadline(cal: WorkCalendar) -> None:
    case = processing()
    assert sweep([case], at(19, 17), cal) == []  # 8 h + 2 h left
    soon = sweep([case], at(20, 9, 30), cal)  # Fri 09:30 → Mon 09:00 = 7.5 working hours
    warning = first(soon, DueSoon)
    assert types(soon) == ["case.due_soon"]
    assert warning.hours_left == 7.5 and warning.deadline == at(23, 9)
    assert sweep([case], at(20, 16), cal) == [] and sweep([case], at(23, 8), cal) == []


def test_custom_due_soon_window(cal: WorkCalendar) -> None:
    case = processing()
    assert types(sweep([case], at(19, 9), cal, due_soon_hours=16)) == ["case.due_soon"]


def test_no_deadline_warnings_while_waiting_or_after_the_result(cal: WorkCalendar) -> None:
    waiting = processing()
    waiting.request_payment("spec1", 100_000, at(17, 9))
    done = processing()
    done.complete_step("spec1", at(17, 9))
    done.approve("head1", at(17, 10))
    stopped = processing()
    stopped.stop("head1", "lý do", at(17, 9))
    assert sweep([waiting, done, stopped], at(30, 9), cal) == []


def test_transfer_ack_warning_after_two_working_hours(cal: WorkCalendar) -> None:
    case, _ = open_case()
    case.transfer("desk1", CITY, at(16, 10))  # acknowledgement due Mon 14:00 (lunch not counted)
    assert sweep([case], at(16, 14), cal) == []
    warned = sweep([case], at(16, 14, 1), cal)
    assert types(warned) == ["case.transfer_ack_overdue"]
    warning = first(warned, HandoffAckOverdue)
    assert warning.agency == CITY and warning.ack_due_at == at(16, 14)
    assert sweep([case], at(16, 16), cal) == [] and sweep([case], at(17, 9), cal) == []
    ack = case.acknowledge_transfer("city_clerk", at(17, 9))
    assert first(ack, HandoffAcknowledged).ack_late is True


def test_each_hand_over_gets_its_own_ack_warning(cal: WorkCalendar) -> None:
    case, _ = open_case()
    at_city(case, at(16, 10))
    case.complete_step("head1", at(16, 11))
    case.complete_step("spec1", at(17, 9))
    case.approve("head1", at(17, 10))
    case.return_result("clerk", at(17, 10))
    warned = sweep([case], at(17, 15), cal)
    assert types(warned) == ["case.transfer_ack_overdue"] and first(warned, HandoffAckOverdue).kind == "return"
    assert sweep([case], at(18, 15), cal) == []


def test_sweep_many_cases_one_event_each(cal: WorkCalendar) -> None:
    cases = [processing() for _ in range(5)]
    now = at(23, 10)
    for step in range(10):
        events = sweep(cases, now + timedelta(hours=step * 7), cal)
        assert len(events) == (5 if step == 0 else 0)
    assert all(c.state is CaseState.PROCESSING for c in cases)
