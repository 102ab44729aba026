"""The working-day calendar: start of counting, appointments (ngày hẹn trả), office time elapsed.

Every moment is mapped to its *position*: the office time, in microseconds, worked since
a fixed epoch. Positions only grow inside office hours, so adding hours is one addition and
one inverse look-up, never a walk through the hours.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from libs.calendar.config import WEEKDAYS, CalendarConfig
from libs.calendar.days import DayTable
from libs.calendar.limits import LimitUnit, TimeLimit
from libs.calendar.office import US_PER_HOUR, OfficeDay, from_us, to_us


class WorkCalendar:
    def __init__(self, config: CalendarConfig) -> None:
        self.config = config
        self.tz = ZoneInfo(config.timezone)
        self._days = DayTable(config)
        self._office = OfficeDay(config.office_periods)
        self._cutoff_us = to_us(config.cutoff)

    @property
    def hours_per_day(self) -> float:
        """One working day is one full day of office hours (8 h with the default periods)."""
        return self._office.length_us / US_PER_HOUR

    def is_working_day(self, d: date) -> bool:
        return self._days.is_working_day(d)

    def is_office_moment(self, t: datetime) -> bool:
        """On a working day and within office hours, period ends included."""
        local = self._local(t)
        return self.is_working_day(local.date()) and self._office.is_inside(to_us(local.time()))

    def next_office_moment(self, t: datetime) -> datetime:
        """`t` itself inside office hours, else the next opening (lunch → 13:30, evening → 07:00)."""
        local = self._local(t)
        return self._moment(self._position(local), at_end=False, year=local.year)

    def start_of_counting(self, received: datetime, cutoff: bool) -> datetime:
        """When the clock starts; with the cut-off a receipt strictly after 15:00:00 waits for the next
        working day (15:00:00 sharp still counts that day; see `after_cutoff`)."""
        local = self._local(received)
        return self._moment(self._start_position(local, cutoff), at_end=False, year=local.year)

    def due(self, received: datetime, limit: TimeLimit, cutoff: bool) -> datetime:
        """The appointment (ngày hẹn trả kết quả) for a dossier received at `received`; `cutoff`: the
        procedure has the 15:00 cut-off, applied where it belongs (`TimeLimit.cutoff_applies`)."""
        cutoff = limit.cutoff_applies(cutoff)
        if limit.unit is LimitUnit.DAYS:
            return self._due_in_calendar_days(received, int(limit.value))
        local = self._local(received)
        start = self._start_position(local, cutoff)
        if limit.unit is LimitUnit.SAME_DAY:
            start_day = self._days.day_at(start // self._office.length_us, hint_year=local.year)
            return self._closing(start_day)
        per_unit = self.hours_per_day if limit.unit is LimitUnit.WORKING_DAYS else 1.0
        return self._moment(start + _to_us(limit.value * per_unit), at_end=True, year=local.year)

    def after_cutoff(self, received: datetime) -> bool:
        """True when `received` is strictly after the cut-off time (default 15:00:00) of its local day.

        The law says "sau 15 giờ" (after 15:00): 15:00:00 sharp is still that day, 15:00:00.000001 is not.
        """
        return self._after_cutoff(self._local(received))

    def after_pause(self, moment: datetime, paused_from: datetime, resumed_at: datetime) -> datetime:
        """`moment` (an appointment, a step deadline) moved later by the office time the clock stood still
        from `paused_from` to `resumed_at` (nothing when `resumed_at` is not later).

        The one rule for a pause (waiting for a supplement or a payment): processing moves its appointment
        with it, and reporting moves the original appointment with it by the pause that moved processing's
        appointment from `previous` to `new` (`after_pause(original, previous, new)`): the same office time,
        never the clock-time gap between the two dates.
        """
        local = self._local(moment)
        paused = self._position(self._local(resumed_at)) - self._position(self._local(paused_from))
        if paused <= 0:
            return local
        return self._moment(self._position(local) + paused, at_end=True, year=local.year)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` of office time after `start`; a result on a boundary is the period end."""
        if hours < 0:
            return self.subtract_working_hours(start, -hours)
        local, amount = self._local(start), _to_us(hours)
        if amount == 0:
            return local
        return self._moment(self._position(local) + amount, at_end=True, year=local.year)

    def subtract_working_hours(self, end: datetime, hours: float) -> datetime:
        """The moment `hours` of office time before `end`; a result on a boundary is the period start."""
        if hours < 0:
            return self.add_working_hours(end, -hours)
        local, amount = self._local(end), _to_us(hours)
        if amount == 0:
            return local
        return self._moment(self._position(local) - amount, at_end=False, year=local.year)

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        """Office hours from `a` to `b`; negative when `b` is before `a`."""
        return (self._position(self._local(b)) - self._position(self._local(a))) / US_PER_HOUR

    def days_off(self, year: int) -> list[tuple[date, str]]:
        """Named days off in `year` (holidays, announced days off); plain weekends are left out."""
        return [
            (d, name)
            for d in _dates_of(year)
            if not self.is_working_day(d) and (name := self._days.name_of(d))
        ]

    def working_rest_days(self, year: int) -> list[tuple[date, str]]:
        """Weekly rest days made working days in `year` (ngày làm bù), e.g. Sat 22/08/2026."""
        rest = self.config.weekly_rest_days
        return [
            (d, self._days.name_of(d))
            for d in _dates_of(year)
            if WEEKDAYS[d.weekday()] in rest and self.is_working_day(d)
        ]

    # --- internals -------------------------------------------------------------------------

    def _due_in_calendar_days(self, received: datetime, days: int) -> datetime:
        # Civil Code art. 147: day 1 is the day after receipt, whatever the hour and whether or not
        # it is a working day; days off inside the period count.
        last_day = self._local(received).date() + timedelta(days=days)
        if not self.is_working_day(last_day):  # art. 148: a last day off moves to the next working day
            last_day = self._days.next_working_day(last_day)
        # Due at the close of office hours rather than 24:00: nobody can act after closing.
        return self._closing(last_day)

    def _position(self, local: datetime) -> int:
        index, working = self._days.locate(local.date())
        worked = index * self._office.length_us
        if working:
            worked += self._office.elapsed_us(to_us(local.time()))
        return worked

    def _start_position(self, local: datetime, cutoff: bool) -> int:
        if cutoff and self._after_cutoff(local):
            # index(tomorrow) is the index of the next working day; position = its opening.
            return self._days.index(local.date() + timedelta(days=1)) * self._office.length_us
        return self._position(local)

    def _moment(self, position: int, *, at_end: bool, year: int) -> datetime:
        index, elapsed = divmod(position, self._office.length_us)
        if at_end and elapsed == 0:  # prefer 17:00 of the day before over 07:00 of the next one
            index, elapsed = index - 1, self._office.length_us
        day = self._days.day_at(index, hint_year=year)
        return self._at(day, self._office.clock_at(elapsed, at_end=at_end))

    def _after_cutoff(self, local: datetime) -> bool:
        return to_us(local.time()) > self._cutoff_us

    def _opening(self, day: date) -> datetime:
        return self._at(day, self._office.opens_us)

    def _closing(self, day: date) -> datetime:
        return self._at(day, self._office.closes_us)

    def _at(self, day: date, clock_us: int) -> datetime:
        return datetime.combine(day, from_us(clock_us), tzinfo=self.tz)

    def _local(self, t: datetime) -> datetime:
        """`t` in the calendar's zone; its date() and time() are the local day and clock."""
        if t.tzinfo is None or t.utcoffset() is None:
            raise ValueError(f"naive datetime {t.isoformat()}: pass a timezone-aware datetime")
        return t.astimezone(self.tz)


def _to_us(hours: float) -> int:
    if not math.isfinite(hours):
        raise ValueError(f"hours must be finite, got {hours}")
    return round(hours * US_PER_HOUR)


def _dates_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]
