"""Calendar configuration: the validated shape of deploy/config/calendar.yaml."""

from __future__ import annotations

import datetime as dt
import re
from datetime import time
from itertools import pairwise
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)  # index = date.weekday()


def _parse_clock(value: object) -> time:
    """Accept only "HH:MM" strings (or time objects).

    Strict on purpose: unquoted 13:30 in YAML 1.1 is the integer 810, which pydantic
    would otherwise read as 00:13:30 without complaint.
    """
    if isinstance(value, time):
        return value
    if isinstance(value, str) and (m := _HHMM.match(value.strip())):
        return time(int(m.group(1)), int(m.group(2)))
    raise ValueError(f'expected a quoted "HH:MM" time, got {value!r}')


ClockTime = Annotated[time, BeforeValidator(_parse_clock)]


class OfficePeriod(BaseModel):
    """One block of office hours (giờ hành chính), e.g. 07:00–11:30."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _start_before_end(self) -> OfficePeriod:
        if self.start >= self.end:
            raise ValueError(f"office_periods: start {self.start} must be before end {self.end}")
        return self


class NamedDay(BaseModel):
    """An announced day: an extra day off, or a weekend day made a working day (ngày làm bù)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    date: dt.date
    name: str = ""


def _default_periods() -> tuple[OfficePeriod, ...]:
    return (
        OfficePeriod(start=time(7, 0), end=time(11, 30)),
        OfficePeriod(start=time(13, 30), end=time(17, 0)),
    )


class CalendarConfig(BaseModel):
    """Working-day calendar settings. Defaults are the Vietnamese state-office ones."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    country: str = "VN"
    timezone: str = "Asia/Ho_Chi_Minh"
    language: str = "vi"  # of the holiday names shown to operators
    office_periods: tuple[OfficePeriod, ...] = Field(default_factory=_default_periods)
    cutoff: ClockTime = time(15, 0)
    weekly_rest_days: tuple[Weekday, ...] = ("saturday", "sunday")
    extra_days_off: tuple[NamedDay, ...] = ()
    extra_working_days: tuple[NamedDay, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"timezone: unknown time zone {value!r}") from exc
        return value

    @field_validator("country")
    @classmethod
    def _supported_country(cls, value: str) -> str:
        if value not in holidays.list_supported_countries():
            raise ValueError(f"country: {value!r} is not supported by the holidays package")
        return value

    @field_validator("office_periods")
    @classmethod
    def _ordered_periods(cls, value: tuple[OfficePeriod, ...]) -> tuple[OfficePeriod, ...]:
        if not value:
            raise ValueError("office_periods: at least one period is required")
        for before, after in pairwise(value):
            if after.start < before.end:
                raise ValueError(
                    f"office_periods: {before.start}-{before.end} and {after.start}-{after.end} "
                    "overlap or are out of order"
                )
        return value

    @field_validator("extra_days_off", "extra_working_days")
    @classmethod
    def _no_duplicates(cls, value: tuple[NamedDay, ...]) -> tuple[NamedDay, ...]:
        seen: set[dt.date] = set()
        for day in value:
            if day.date in seen:
                raise ValueError(f"date {day.date} is listed twice")
            seen.add(day.date)
        return value

    @model_validator(mode="after")
    def _language_known(self) -> CalendarConfig:
        languages = holidays.list_localized_countries().get(self.country, [])
        if languages and self.language not in languages:
            raise ValueError(f"language: {self.language!r} not among {self.country} names {languages}")
        return self

    @model_validator(mode="after")
    def _lists_disjoint(self) -> CalendarConfig:
        both = {d.date for d in self.extra_days_off} & {d.date for d in self.extra_working_days}
        if both:
            listed = ", ".join(str(d) for d in sorted(both))
            raise ValueError(f"extra_days_off and extra_working_days both list {listed}")
        if len(set(self.weekly_rest_days)) != len(self.weekly_rest_days):
            raise ValueError("weekly_rest_days: a day is listed twice")
        return self
