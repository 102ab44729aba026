"""Table tests for appointments (ngày hẹn trả) against the shipped calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from libs.calendar import LimitUnit, TimeLimit, load_calendar

CAL = load_calendar()
VN = ZoneInfo("Asia/Ho_Chi_Minh")
WD, DAYS, HOURS = LimitUnit.WORKING_DAYS, LimitUnit.DAYS, LimitUnit.HOURS
SAME_DAY = TimeLimit.same_day()


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN)


def test_required_case_friday_before_tet_2026_after_cutoff() -> None:
    received = vn(2026, 2, 13, 16)  # Friday, after 15:00, Tết 14–22/02 follows
    assert CAL.start_of_counting(received, cutoff=True) == vn(2026, 2, 23, 7)
    assert CAL.due(received, TimeLimit(1, WD), cutoff=True) == vn(2026, 2, 23, 17)


@pytest.mark.parametrize(
    ("received", "limit", "cutoff", "expected"),
    [
        # No cut-off: the last office hour of Friday counts, 7 h remain after Tết.
        (vn(2026, 2, 13, 16), TimeLimit(1, WD), False, vn(2026, 2, 23, 16)),
        # Lunch break → 13:30; the appointment ends on the morning boundary 11:30, not 13:30.
        (vn(2026, 3, 3, 12, 15), TimeLimit(1, WD), False, vn(2026, 3, 4, 11, 30)),
        # Evening → next working day 07:00.
        (vn(2026, 3, 3, 18), TimeLimit(1, WD), False, vn(2026, 3, 4, 17)),
        # Before opening → 07:00 the same day.
        (vn(2026, 3, 3, 6), TimeLimit(1, WD), False, vn(2026, 3, 3, 17)),
        # Weekend → Monday 07:00.
        (vn(2026, 3, 7, 10), TimeLimit(2, WD), False, vn(2026, 3, 10, 17)),
        # Cut-off: 15:00 sharp is not "after 15:00"; 15:01 is.
        (vn(2026, 3, 3, 15), TimeLimit(1, WD), True, vn(2026, 3, 4, 15)),
        (vn(2026, 3, 3, 15, 1), TimeLimit(1, WD), True, vn(2026, 3, 4, 17)),
        (vn(2026, 3, 3, 15, 1), TimeLimit(1, WD), False, vn(2026, 3, 4, 15, 1)),
        # Half a working day and working hours.
        (vn(2026, 3, 3, 7), TimeLimit(0.5, WD), False, vn(2026, 3, 3, 11)),
        (vn(2026, 3, 3, 10), TimeLimit(4, HOURS), False, vn(2026, 3, 3, 16)),
        # Same day (trong ngày), with and without the cut-off.
        (vn(2026, 3, 3, 9), SAME_DAY, True, vn(2026, 3, 3, 17)),
        (vn(2026, 3, 3, 15, 30), SAME_DAY, True, vn(2026, 3, 4, 17)),
        (vn(2026, 3, 3, 15, 30), SAME_DAY, False, vn(2026, 3, 3, 17)),
        (vn(2026, 3, 3, 17, 30), SAME_DAY, False, vn(2026, 3, 4, 17)),
        (vn(2026, 2, 13, 16), SAME_DAY, True, vn(2026, 2, 23, 17)),
        # 2/9/2026: Sat 22/08 is a working day, Mon 31/08 – Wed 02/09 are off.
        (vn(2026, 8, 20, 10), TimeLimit(3, WD), False, vn(2026, 8, 24, 10)),
        (vn(2026, 8, 22, 9), TimeLimit(1, WD), False, vn(2026, 8, 24, 9)),
        (vn(2026, 8, 28, 9), TimeLimit(2, WD), False, vn(2026, 9, 4, 9)),
        (vn(2026, 8, 28, 16), TimeLimit(1, WD), True, vn(2026, 9, 3, 17)),
        # Tết 2027 (Thu 04/02 – Wed 10/02 off).
        (vn(2027, 2, 3, 10), TimeLimit(1, WD), False, vn(2027, 2, 11, 10)),
        (vn(2027, 2, 3, 16), TimeLimit(1, WD), True, vn(2027, 2, 11, 17)),
        # New Year 2026: Fri 02/01 off, Sat 10/01 worked instead (YAML).
        (vn(2025, 12, 31, 16), TimeLimit(1, WD), True, vn(2026, 1, 5, 17)),
        (vn(2026, 1, 9, 16), TimeLimit(1, WD), True, vn(2026, 1, 10, 17)),
    ],
)
def test_due_in_office_time(received: datetime, limit: TimeLimit, cutoff: bool, expected: datetime) -> None:
    assert CAL.due(received, limit, cutoff) == expected


@pytest.mark.parametrize(
    ("received", "days", "cutoff", "expected"),
    [
        # Counting starts the day after receipt; due at 17:00 of the last day.
        (vn(2026, 3, 4, 10), 2, False, vn(2026, 3, 6, 17)),
        # Last day a Saturday → next working day.
        (vn(2026, 3, 3, 10), 4, False, vn(2026, 3, 9, 17)),
        # Last day Tue 01/09/2026 (holiday), Wed 02/09 too → Thu 03/09.
        (vn(2026, 8, 27, 10), 5, False, vn(2026, 9, 3, 17)),
        # Last day the working Saturday 22/08/2026 stays there.
        (vn(2026, 8, 17, 10), 5, False, vn(2026, 8, 22, 17)),
        # Last day in Tết 2026 → Mon 23/02.
        (vn(2026, 2, 9, 10), 7, False, vn(2026, 2, 23, 17)),
        # The 15:00 cut-off does not apply to calendar days (art. 147: the day after receipt, whatever the
        # hour). Fri 16:00 before Tết: days 1–3 are Sat 14 – Mon 16/02, a day off → Mon 23/02, not Wed 25/02.
        (vn(2026, 2, 13, 16), 3, True, vn(2026, 2, 23, 17)),
        # Fri 06/03 16:00 before a weekend: Sat, Sun, Mon → Mon 09/03, not Wed 11/03 (the weekend counts).
        (vn(2026, 3, 6, 16), 3, True, vn(2026, 3, 9, 17)),
        (vn(2026, 3, 6, 16), 3, False, vn(2026, 3, 9, 17)),
        # Received on a Saturday evening: day 1 is Sunday.
        (vn(2026, 3, 7, 20), 2, True, vn(2026, 3, 9, 17)),
        # Mid-week the cut-off changes nothing: day 1 is Thursday either way.
        (vn(2026, 3, 4, 16), 2, True, vn(2026, 3, 6, 17)),
        (vn(2026, 2, 13, 16), 3, False, vn(2026, 2, 23, 17)),
        # Last day in Tết 2027 (Sat 06/02) → Thu 11/02.
        (vn(2027, 2, 1, 10), 5, False, vn(2027, 2, 11, 17)),
    ],
)
def test_due_in_calendar_days(received: datetime, days: int, cutoff: bool, expected: datetime) -> None:
    assert CAL.due(received, TimeLimit(days, DAYS), cutoff) == expected


def test_any_timezone_in_calendar_timezone_out() -> None:
    received = datetime(2026, 2, 13, 9, tzinfo=UTC)  # 16:00 in Hà Nội
    due = CAL.due(received, TimeLimit(1, WD), cutoff=True)
    assert due == vn(2026, 2, 23, 17)
    assert due.tzinfo == VN


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (vn(2026, 3, 3, 7), vn(2026, 3, 3, 7)),
        (vn(2026, 3, 3, 11, 30), vn(2026, 3, 3, 13, 30)),
        (vn(2026, 3, 3, 12), vn(2026, 3, 3, 13, 30)),
        (vn(2026, 3, 3, 17), vn(2026, 3, 4, 7)),
        (vn(2026, 3, 7, 9), vn(2026, 3, 9, 7)),
        (vn(2026, 8, 22, 9), vn(2026, 8, 22, 9)),
    ],
)
def test_next_office_moment(t: datetime, expected: datetime) -> None:
    assert CAL.next_office_moment(t) == expected


def test_working_hours_between_and_subtract() -> None:
    assert CAL.working_hours_between(vn(2026, 2, 13, 16), vn(2026, 2, 23, 10)) == 4
    assert CAL.working_hours_between(vn(2026, 2, 23, 10), vn(2026, 2, 13, 16)) == -4
    assert CAL.working_hours_between(vn(2026, 3, 3, 12), vn(2026, 3, 3, 13)) == 0
    # "Due soon" one working day before the appointment.
    assert CAL.subtract_working_hours(vn(2026, 2, 23, 17), 8) == vn(2026, 2, 23, 7)
    assert CAL.subtract_working_hours(vn(2026, 2, 23, 9), 8) == vn(2026, 2, 13, 9)
    assert CAL.add_working_hours(vn(2026, 2, 13, 9), -8) == CAL.subtract_working_hours(vn(2026, 2, 13, 9), 8)


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 3, 3, 9)
    with pytest.raises(ValueError, match="naive"):
        CAL.due(naive, TimeLimit(1, WD), cutoff=False)
    with pytest.raises(ValueError, match="naive"):
        CAL.working_hours_between(vn(2026, 3, 3, 9), naive)


def test_time_limit_validation() -> None:
    with pytest.raises(ValueError):
        TimeLimit(0, WD)
    with pytest.raises(ValueError):
        TimeLimit(1.5, DAYS)
    with pytest.raises(ValueError):
        TimeLimit(float("inf"), HOURS)
    assert LimitUnit("same_day") is LimitUnit.SAME_DAY


# The 15:00 boundary ("sau 15 giờ"): strictly after 15:00:00 is after the cut-off; 15:00:00 sharp is not.
# Tue 03/03/2026; for each instant: after the cut-off?, start of counting, 1 working day, same day.
@pytest.mark.parametrize(
    ("clock", "after", "start", "one_day", "same_day"),
    [
        ((14, 59, 59), False, vn(2026, 3, 3, 14, 59).replace(second=59), vn(2026, 3, 4, 14, 59).replace(second=59),
         vn(2026, 3, 3, 17)),
        ((15, 0, 0), False, vn(2026, 3, 3, 15), vn(2026, 3, 4, 15), vn(2026, 3, 3, 17)),
        ((15, 0, 1), True, vn(2026, 3, 4, 7), vn(2026, 3, 4, 17), vn(2026, 3, 4, 17)),
    ],
)
def test_the_cutoff_boundary(clock: tuple[int, int, int], after: bool, start: datetime, one_day: datetime,
                             same_day: datetime) -> None:
    received = datetime(2026, 3, 3, *clock, tzinfo=VN)
    assert CAL.after_cutoff(received) is after
    assert CAL.start_of_counting(received, cutoff=True) == start
    assert CAL.due(received, TimeLimit(1, WD), cutoff=True) == one_day
    assert CAL.due(received, SAME_DAY, cutoff=True) == same_day
    # Calendar days ignore the cut-off: day 1 is Wed 04/03 at all three instants.
    assert CAL.due(received, TimeLimit(1, DAYS), cutoff=True) == vn(2026, 3, 4, 17)
    # Without the cut-off the hour changes nothing but the start itself.
    assert CAL.start_of_counting(received, cutoff=False) == received


def test_the_cutoff_belongs_to_working_days_and_same_day_only() -> None:
    assert TimeLimit(1, WD).cutoff_applies(True) and SAME_DAY.cutoff_applies(True)
    assert not TimeLimit(4, HOURS).cutoff_applies(True)
    assert not TimeLimit(3, DAYS).cutoff_applies(True)
    assert not TimeLimit(1, WD).cutoff_applies(False)
    # Hours run from the receipt: 15:30 + 4 office hours = 1.5 h today + 2.5 h tomorrow.
    assert CAL.due(vn(2026, 3, 3, 15, 30), TimeLimit(4, HOURS), cutoff=True) == vn(2026, 3, 4, 9, 30)


def test_after_pause_moves_by_office_time() -> None:
    # Two office hours paused (Tue 09/06/2026 09:00–11:00) move Wed 10/06 10:00 to 14:00 (lunch skipped) and
    # Fri 12/06 16:00 to Mon 15/06 08:00 (the weekend skipped) — never by the clock gap between them.
    paused, resumed = vn(2026, 6, 9, 9), vn(2026, 6, 9, 11)
    assert CAL.after_pause(vn(2026, 6, 10, 10), paused, resumed) == vn(2026, 6, 10, 14)
    assert CAL.after_pause(vn(2026, 6, 12, 16), paused, resumed) == vn(2026, 6, 15, 8)
    # Following a move: the original moves by the office time that moved the other appointment.
    assert CAL.after_pause(vn(2026, 6, 10, 10), vn(2026, 6, 12, 16), vn(2026, 6, 15, 8)) == vn(2026, 6, 10, 14)
    # A pause wholly outside office hours, or backwards, moves nothing.
    assert CAL.after_pause(vn(2026, 6, 10, 10), vn(2026, 6, 13, 8), vn(2026, 6, 14, 20)) == vn(2026, 6, 10, 10)
    assert CAL.after_pause(vn(2026, 6, 10, 10), resumed, paused) == vn(2026, 6, 10, 10)
    # A result on a closing boundary is that closing, as for any appointment.
    assert CAL.after_pause(vn(2026, 6, 10, 16), paused, vn(2026, 6, 9, 10)) == vn(2026, 6, 10, 17)
