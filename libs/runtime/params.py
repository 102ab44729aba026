"""Days and moments in requests, within the years the services count in (1900–2999), in the document too.

ISO 8601 alone allows the years 1 to 9999, and a report on 0001-01-01 or 9999-12-31 turned into a 500: its
local midnight in UTC, or the day after its last day, is not a date Python has. No dossier is older than the
services, so a request outside these years is refused as malformed (422) and the document says which years."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, WithJsonSchema

from libs.identity import IsoDate, IsoDateTime, IsoLocalDateTime

FIRST_YEAR, LAST_YEAR = 1900, 2999
# An ISO 8601 day within FIRST_YEAR..LAST_YEAR. February 29 is left out (the check takes it in a leap year): the
# pattern then describes only real days, so a client or test generator that follows it never makes a bad one.
_DAY = (r"(?:19|2[0-9])[0-9]{2}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
        r"|(?:0[13578]|1[02])-31)")
_TIME = r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
_OFFSET = r"(?:Z|[+-](?:0[0-9]|1[0-3]):[0-5][0-9])"
D = TypeVar("D", bound=date)  # a date or a datetime


def _within_years(value: D) -> D:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"the year must be within {FIRST_YEAR}–{LAST_YEAR}")
    return value


def _documented(pattern: str, fmt: str | None) -> Any:
    return WithJsonSchema({"type": "string", "pattern": f"^{pattern}$", **({"format": fmt} if fmt else {}),
                           "description": f"ISO 8601, a year within {FIRST_YEAR}–{LAST_YEAR}"})


Day = Annotated[IsoDate, AfterValidator(_within_years), _documented(_DAY, "date")]
Moment = Annotated[IsoDateTime, AfterValidator(_within_years), _documented(_DAY + _TIME + _OFFSET, "date-time")]
# A local wall-clock time unless an offset is given (no `format`: RFC 3339's date-time always has one).
LocalMoment = Annotated[IsoLocalDateTime, AfterValidator(_within_years), _documented(f"{_DAY}{_TIME}{_OFFSET}?", None)]
