"""How a procedure states its time limit (thời hạn giải quyết)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class LimitUnit(StrEnum):
    WORKING_DAYS = "working_days"  # ngày làm việc
    DAYS = "days"  # ngày (calendar days, Civil Code arts. 147–148)
    HOURS = "hours"  # giờ (working hours)
    SAME_DAY = "same_day"  # trong ngày


@dataclass(frozen=True)
class TimeLimit:
    value: float
    unit: LimitUnit

    def __post_init__(self) -> None:
        if self.unit is LimitUnit.SAME_DAY:
            return  # the value carries no meaning for a same-day procedure
        if not (math.isfinite(self.value) and self.value > 0):
            raise ValueError(
                f"TimeLimit.value must be a positive finite number for {self.unit}, got {self.value}"
            )
        # Arts. 147–148 count whole days; half a calendar day has no legal end.
        if self.unit is LimitUnit.DAYS and self.value != int(self.value):
            raise ValueError(f"TimeLimit.value must be a whole number of days, got {self.value}")

    @classmethod
    def same_day(cls) -> TimeLimit:
        return cls(0, LimitUnit.SAME_DAY)
