"""Which dates are working days (ngày làm việc), and their running index.

Precedence, strongest first: configured extra working days, configured extra days off,
weekend days the holidays package knows were swapped to working days, statutory holidays,
the weekly rest days.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, timedelta

import holidays

from libs.calendar.config import WEEKDAYS, CalendarConfig

# Running indexes are counted from this year; any fixed year works, it only keeps numbers small.
_EPOCH_YEAR = 2000
# Bounds keep the lazily built tables small; deadlines outside them are a data error.
MIN_YEAR, MAX_YEAR = 1970, 2199
_SWAPPED_ON_NAME = "Ngày làm việc bù"  # swapped working day; the package gives it no name


class DayTable:
    """Per-year sorted tables of working days, built lazily and cached."""

    def __init__(self, config: CalendarConfig) -> None:
        self._country, self._language = config.country, config.language
        self._rest = frozenset(WEEKDAYS.index(name) for name in config.weekly_rest_days)
        self._extra_off = {d.date: d.name for d in config.extra_days_off}
        self._extra_on = {d.date: d.name for d in config.extra_working_days}
        self._years: dict[int, tuple[list[int], frozenset[int]]] = {}
        self._prefix: dict[int, int] = {_EPOCH_YEAR: 0}
        self._statutory: dict[int, holidays.HolidayBase] = {}

    def statutory(self, year: int) -> holidays.HolidayBase:
        """The holidays package's days off for `year` (lunar ones and announced swaps included)."""
        if year not in self._statutory:
            _check_year(year)
            self._statutory[year] = holidays.country_holidays(
                self._country, years=year, language=self._language
            )
        return self._statutory[year]

    def is_working_day(self, day: date) -> bool:
        return day.toordinal() in self._year(day.year)[1]

    def index(self, day: date) -> int:
        """How many working days come before `day` (counted from the epoch).

        Also the index of the first working day on or after `day`.
        """
        return self.locate(day)[0]

    def locate(self, day: date) -> tuple[int, bool]:
        """`index(day)` and `is_working_day(day)` in one look-up (the hot path)."""
        ordinals, ordinal = self._year(day.year)[0], day.toordinal()
        at = bisect_left(ordinals, ordinal)
        working = at < len(ordinals) and ordinals[at] == ordinal
        return self._prefix_of(day.year) + at, working

    def day_at(self, index: int, hint_year: int) -> date:
        """The working day whose index is `index`; `hint_year` is where the search starts."""
        year = hint_year
        while self._prefix_of(year) > index:
            year -= 1
        while self._prefix_of(year + 1) <= index:
            year += 1
        return date.fromordinal(self._year(year)[0][index - self._prefix_of(year)])

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        return self.day_at(self.index(day + timedelta(days=1)), hint_year=day.year)

    def name_of(self, day: date) -> str:
        """Why `day` is special (holiday name, announced day off or working day), or ''."""
        if day in self._extra_on:
            return self._extra_on[day]
        if day in self._extra_off:
            return self._extra_off[day]
        statutory = self.statutory(day.year)
        if day in _swapped_on(statutory):
            return _SWAPPED_ON_NAME
        return statutory.get(day) or ""

    def _year(self, year: int) -> tuple[list[int], frozenset[int]]:
        if year not in self._years:
            ordinals = self._build_year(year)
            self._years[year] = (ordinals, frozenset(ordinals))
        return self._years[year]

    def _build_year(self, year: int) -> list[int]:
        statutory = self.statutory(year)
        swapped_on = _swapped_on(statutory)
        day, end = date(year, 1, 1), date(year + 1, 1, 1)
        ordinals: list[int] = []
        while day < end:
            if self._works(day, statutory, swapped_on):
                ordinals.append(day.toordinal())
            day += timedelta(days=1)
        return ordinals

    def _works(self, day: date, statutory: holidays.HolidayBase, swapped_on: set[date]) -> bool:
        if day in self._extra_on:
            return True
        if day in self._extra_off:
            return False
        if day in swapped_on:
            return True
        return day not in statutory and day.weekday() not in self._rest

    def _prefix_of(self, year: int) -> int:
        """Working days in the years from the epoch up to (not including) `year`."""
        if year not in self._prefix:
            _check_year(year)
            step = 1 if year > _EPOCH_YEAR else -1
            known = year - step
            while known not in self._prefix:  # fill the gap from the epoch side, no deep recursion
                known -= step
            while known != year:
                if step == 1:
                    self._prefix[known + 1] = self._prefix[known] + len(self._year(known)[0])
                else:
                    self._prefix[known - 1] = self._prefix[known] - len(self._year(known - 1)[0])
                known += step
        return self._prefix[year]


def _swapped_on(statutory: holidays.HolidayBase) -> set[date]:
    """Weekend days the holidays package marks as worked (làm bù); older releases lack this."""
    return set(getattr(statutory, "weekend_workdays", ()))


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside the supported calendar range {MIN_YEAR}-{MAX_YEAR}")
