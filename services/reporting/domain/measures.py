"""Small value types shared by the indicators and the procedure review: rates and elapsed time."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

Elapsed = Callable[[datetime, datetime], float]  # hours from the first moment to the second


def calendar_hours(start: datetime, end: datetime) -> float:
    """Clock hours between two moments (nights, weekends and holidays included)."""
    return (end - start).total_seconds() / 3600


@dataclass(frozen=True, slots=True)
class Rate:
    """A ratio (tỷ lệ) that keeps its numerator and denominator; no value when the denominator is 0."""

    numerator: float
    denominator: float

    @property
    def value(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    def percent(self, digits: int = 1) -> float | None:
        value = self.value
        return None if value is None else round(100 * value, digits)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `share` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]
