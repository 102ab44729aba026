"""Reporting domain (báo cáo): pure functions from fact rows to Form 06, indicators and reviews.

No I/O and no framework imports; the service layer fills `FactRow`s from events and calls these.
"""

from .facts import FactRow
from .form06 import (
    Form06,
    Form06Counts,
    Form06Line,
    Form06Row,
    Form06Section,
    IdentityError,
    form06,
    form06_from_groups,
)
from .indicators import Indicators, ProcedureTime, indicators
from .measures import Elapsed, Rate, calendar_hours
from .review import ProcedureReview, procedure_review
from .rules import CountingRules
from .scores import Score
from .timing import Judge

__all__ = [
    "CountingRules",
    "Elapsed",
    "FactRow",
    "Form06",
    "Form06Counts",
    "Form06Line",
    "Form06Row",
    "Form06Section",
    "IdentityError",
    "Indicators",
    "Judge",
    "ProcedureReview",
    "ProcedureTime",
    "Rate",
    "Score",
    "calendar_hours",
    "form06",
    "form06_from_groups",
    "indicators",
    "procedure_review",
]
