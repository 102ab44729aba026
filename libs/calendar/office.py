"""Office hours (giờ hành chính) inside one day, measured in microseconds.

Integers, not float hours, so that adding and then subtracting a duration lands exactly
where it started.
"""

from __future__ import annotations

from datetime import time

from libs.calendar.config import OfficePeriod

US_PER_HOUR = 3_600_000_000


def to_us(clock: time) -> int:
    """Microseconds since midnight."""
    return ((clock.hour * 60 + clock.minute) * 60 + clock.second) * 1_000_000 + clock.microsecond


def from_us(us: int) -> time:
    seconds, micro = divmod(us, 1_000_000)
    minutes, sec = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return time(hour, minute, sec, micro)


class OfficeDay:
    """The office periods of a working day, e.g. 07:00–11:30 and 13:30–17:00 (8 hours)."""

    def __init__(self, periods: tuple[OfficePeriod, ...]) -> None:
        self._spans = tuple((to_us(p.start), to_us(p.end)) for p in periods)
        self.length_us = sum(end - start for start, end in self._spans)
        self.opens_us = self._spans[0][0]
        self.closes_us = self._spans[-1][1]

    def elapsed_us(self, clock_us: int) -> int:
        """Office time already worked in the day at `clock_us` (0 before opening, full after closing)."""
        done = 0
        for start, end in self._spans:
            if clock_us <= start:
                break
            done += min(clock_us, end) - start
        return done

    def clock_at(self, elapsed_us: int, *, at_end: bool) -> int:
        """The clock time at which `elapsed_us` of office time has been worked.

        A boundary such as 4.5 h is both 11:30 and 13:30: `at_end` picks the period end
        (for an appointment) rather than the next period start (for a start of counting).
        """
        remaining = elapsed_us
        for start, end in self._spans:
            span = end - start
            if remaining < span or (at_end and remaining == span):
                return start + remaining
            remaining -= span
        return self.closes_us

    def is_inside(self, clock_us: int) -> bool:
        """Within a period, both ends included (an appointment may be at 17:00 sharp)."""
        return any(start <= clock_us <= end for start, end in self._spans)
