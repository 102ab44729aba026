"""Property-based tests: invariants of the deadline arithmetic over 2025–2028."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from libs.calendar import LimitUnit, TimeLimit, load_calendar

CAL = load_calendar()

# Naive bounds; the strategy attaches a zone (storage elsewhere is UTC).
moments = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.sampled_from([ZoneInfo("Asia/Ho_Chi_Minh"), UTC]),
)
half_days = st.integers(min_value=1, max_value=60).map(lambda n: n / 2)
limits = st.one_of(
    half_days.map(lambda v: TimeLimit(v, LimitUnit.WORKING_DAYS)),
    half_days.map(lambda v: TimeLimit(v, LimitUnit.HOURS)),
    st.integers(min_value=1, max_value=60).map(lambda v: TimeLimit(v, LimitUnit.DAYS)),
    st.just(TimeLimit.same_day()),
)
hours = st.floats(min_value=0.001, max_value=400, allow_nan=False, allow_infinity=False)


@given(moments, moments, limits, st.booleans())
def test_due_is_monotone_in_receipt_time(a: datetime, b: datetime, limit: TimeLimit, cutoff: bool) -> None:
    early, late = sorted((a, b))
    assert CAL.due(early, limit, cutoff) <= CAL.due(late, limit, cutoff)


@given(moments, st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=30)), limits, st.booleans())
def test_due_is_monotone_for_close_receipts(
    a: datetime, gap: timedelta, limit: TimeLimit, cutoff: bool
) -> None:
    # Independent pairs rarely straddle 11:30, 15:00 or 17:00; nearby pairs do.
    assert CAL.due(a, limit, cutoff) <= CAL.due(a + gap, limit, cutoff)


@given(moments, limits, st.booleans())
def test_due_is_in_office_hours_of_a_working_day(received: datetime, limit: TimeLimit, cutoff: bool) -> None:
    due = CAL.due(received, limit, cutoff)
    assert CAL.is_working_day(due.date())
    assert CAL.is_office_moment(due)
    assert due > received


@given(moments, st.booleans())
def test_start_of_counting_is_an_office_moment_not_before_receipt(received: datetime, cutoff: bool) -> None:
    start = CAL.start_of_counting(received, cutoff)
    assert start >= received
    assert CAL.is_office_moment(start)
    assert CAL.working_hours_between(start, CAL.next_office_moment(start)) == 0


@given(moments, hours)
def test_add_then_between_round_trips(start: datetime, h: float) -> None:
    end = CAL.add_working_hours(start, h)
    assert end > start
    assert CAL.is_office_moment(end)
    assert abs(CAL.working_hours_between(start, end) - h) < 1e-9


@given(moments, hours)
def test_subtract_is_the_inverse_of_add(start: datetime, h: float) -> None:
    end = CAL.add_working_hours(start, h)
    assert CAL.subtract_working_hours(end, h) == CAL.next_office_moment(start)


@given(moments, hours)
def test_subtract_then_between_round_trips(end: datetime, h: float) -> None:
    start = CAL.subtract_working_hours(end, h)
    assert start < end
    assert CAL.is_office_moment(start)
    assert abs(CAL.working_hours_between(start, end) - h) < 1e-9


@given(moments, moments)
def test_between_is_antisymmetric(a: datetime, b: datetime) -> None:
    assert CAL.working_hours_between(a, b) == -CAL.working_hours_between(b, a)


@given(moments, limits)
def test_calendar_days_ignore_the_cutoff(received: datetime, limit: TimeLimit) -> None:
    if limit.unit is LimitUnit.DAYS:
        assert CAL.due(received, limit, cutoff=True) == CAL.due(received, limit, cutoff=False)
        # Art. 147–148: the last day is the day after receipt + (n - 1), or the first working day after it.
        last = received.astimezone(CAL.tz).date() + timedelta(days=int(limit.value))
        due = CAL.due(received, limit, cutoff=True)
        assert due.date() >= last
        assert all(not CAL.is_working_day(last + timedelta(days=n)) for n in range((due.date() - last).days))


pauses = st.tuples(moments, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)))


@given(moments, pauses)
def test_after_pause_adds_the_office_time_of_the_pause(moment: datetime, pause: tuple[datetime, timedelta]) -> None:
    since, length = pause
    moved = CAL.after_pause(moment, since, since + length)
    assert CAL.working_hours_between(moment, moved) == CAL.working_hours_between(since, since + length)
    assert moved >= moment


@given(moments, moments, pauses, pauses)
def test_following_a_moved_appointment_is_the_same_move(original: datetime, extended: datetime,
                                                        first: tuple[datetime, timedelta],
                                                        second: tuple[datetime, timedelta]) -> None:
    # Reporting moves the original appointment by the office time processing's appointment moved; after any
    # number of pauses that equals moving the original by the pauses themselves, in any order.
    current, followed = extended, original
    for since, length in (first, second):
        moved = CAL.after_pause(current, since, since + length)
        followed = CAL.after_pause(followed, current, moved)
        current = moved
    direct = original
    for since, length in (second, first):
        direct = CAL.after_pause(direct, since, since + length)
    assert followed == direct
