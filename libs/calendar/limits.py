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


_CUTOFF_UNITS = frozenset({LimitUnit.WORKING_DAYS, LimitUnit.SAME_DAY})


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

    def cutoff_applies(self, cutoff: bool) -> bool:
        """Whether a procedure's 15:00 cut-off (`cutoff_15h`) moves the start of counting for this limit.

        The cut-off belongs to working-day and same-day counting only (the texts that set it: DOMAIN §2.1).
        Calendar days count from the day after receipt and hours from the moment of receipt, whatever the
        hour (Civil Code art. 147), so a receipt after 15:00 or before days off loses no time at the start.
        """
        return cutoff and self.unit in _CUTOFF_UNITS
