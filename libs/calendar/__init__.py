"""Working-day calendar and deadline arithmetic (lịch làm việc, thời hạn giải quyết). Pure domain code."""

from libs.calendar.config import CalendarConfig, NamedDay, OfficePeriod
from libs.calendar.limits import LimitUnit, TimeLimit
from libs.calendar.loader import load_calendar
from libs.calendar.work_calendar import WorkCalendar

__all__ = [
    "CalendarConfig",
    "LimitUnit",
    "NamedDay",
    "OfficePeriod",
    "TimeLimit",
    "WorkCalendar",
    "load_calendar",
]
