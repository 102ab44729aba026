"""Which days are working days: holidays.VN plus the announced schedule in the YAML."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from libs.calendar import load_calendar

CAL = load_calendar()


def span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@pytest.mark.parametrize(
    "day",
    [
        *span(date(2026, 2, 14), date(2026, 2, 22)),  # Tết Bính Ngọ, 9 days with the weekends
        date(2026, 1, 1),
        date(2026, 1, 2),  # swapped with Sat 10/01 (YAML)
        date(2026, 4, 27),  # Hùng Vương Sun 26/04 compensated
        *span(date(2026, 8, 29), date(2026, 9, 2)),  # 31/08 swapped with Sat 22/08
        *span(date(2027, 2, 4), date(2027, 2, 10)),  # Tết Đinh Mùi as projected by holidays.VN
        date(2027, 5, 3),  # 01/05/2027 is a Saturday
        date(2027, 9, 3),
    ],
)
def test_days_off(day: date) -> None:
    assert not CAL.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 10),  # Saturday worked for Fri 02/01
        date(2026, 2, 13),
        date(2026, 2, 23),
        date(2026, 8, 22),  # Saturday worked for Mon 31/08
        date(2026, 9, 3),
        date(2027, 2, 3),
        date(2027, 2, 11),
    ],
)
def test_working_days(day: date) -> None:
    assert CAL.is_working_day(day)


def test_days_off_listing_for_the_cli() -> None:
    listed = dict(CAL.days_off(2026))
    assert date(2026, 1, 2) in listed
    assert date(2026, 2, 17) in listed
    assert date(2026, 4, 26) in listed  # a holiday on a Sunday is still shown
    assert date(2026, 3, 7) not in listed  # plain weekends are not
    assert all(name for name in listed.values())
    assert [d for d, _ in CAL.working_rest_days(2026)] == [date(2026, 1, 10), date(2026, 8, 22)]


def test_year_outside_supported_range() -> None:
    with pytest.raises(ValueError, match="supported calendar range"):
        CAL.is_working_day(date(2300, 1, 1))
