"""Judging a dossier against its appointment: early (trước hạn), on time (đúng hạn), late (quá hạn)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from .facts import CLOSING_OUTCOMES, FactRow
from .rules import CountingRules

Timeliness = Literal["early", "on_time", "late"]
_MINUTE = timedelta(minutes=1)
_LONGER_THAN_A_DAY = timedelta(hours=25)  # no local day is longer, even with daylight saving


class Judge:
    """Applies the timing rules of a `CountingRules`. Always against the ORIGINAL appointment."""

    __slots__ = ("_closing_on_time", "_rules", "_supplement_within", "_tz")

    def __init__(self, rules: CountingRules) -> None:
        self._rules = rules
        self._tz = ZoneInfo(rules.timezone)
        self._closing_on_time = rules.withdrawn_stopped_on_time
        self._supplement_within = rules.supplement_within_deadline

    def late_from(self, appointment: datetime) -> datetime:
        """The first instant that is past the appointment."""
        if not self._rules.judge_to_minute:
            return appointment + timedelta.resolution
        into_minute = timedelta(seconds=appointment.second, microseconds=appointment.microsecond)
        return appointment - into_minute + _MINUTE

    def resolution(self, fact: FactRow, resolved_at: datetime, known_at: datetime) -> Timeliness:
        """How a resolution at `resolved_at` compares with the original appointment known at `known_at`."""
        return self.resolution_against(fact.outcome, fact.appointment_known_at(known_at), resolved_at)

    def resolution_against(self, outcome: str | None, appointment: datetime, resolved_at: datetime) -> Timeliness:
        """`resolution` of an ending with `outcome` against a given original appointment."""
        if self._closing_on_time and outcome in CLOSING_OUTCOMES:
            return "on_time"
        if self.is_past(resolved_at, appointment):
            return "late"
        return "early" if self._earlier_local_day(resolved_at, appointment) else "on_time"

    def is_past(self, moment: datetime, appointment: datetime) -> bool:
        """True when `moment` is after the appointment (cheap test first: most moments are before it)."""
        return moment >= appointment and moment >= self.late_from(appointment)

    def _earlier_local_day(self, moment: datetime, appointment: datetime) -> bool:
        if appointment - moment > _LONGER_THAN_A_DAY:
            return True
        return moment.astimezone(self._tz).date() < appointment.astimezone(self._tz).date()

    def overdue_at(self, fact: FactRow, moment: datetime) -> bool:
        """True when a dossier still pending at `moment` is past its appointment (đang giải quyết quá hạn)."""
        if self._supplement_within and fact.waiting_supplement_at(moment):
            return False
        return self.is_past(moment, fact.appointment_known_at(moment))
