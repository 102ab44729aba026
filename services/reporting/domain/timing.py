"""Judging a dossier against its appointment: early (trước hạn), on time (đúng hạn), late (quá hạn)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from .facts import CLOSING_OUTCOMES, FactRow
from .rules import CountingRules

Timeliness = Literal["early", "on_time", "late"]
_MINUTE = timedelta(minutes=1)


class Judge:
    """Applies the timing rules of a `CountingRules`. Always against the ORIGINAL appointment."""

    __slots__ = ("_rules", "_tz")

    def __init__(self, rules: CountingRules) -> None:
        self._rules = rules
        self._tz = ZoneInfo(rules.timezone)

    def late_from(self, appointment: datetime) -> datetime:
        """The first instant that is past the appointment."""
        if not self._rules.judge_to_minute:
            return appointment + timedelta.resolution
        into_minute = timedelta(seconds=appointment.second, microseconds=appointment.microsecond)
        return appointment - into_minute + _MINUTE

    def resolution(self, fact: FactRow, resolved_at: datetime, known_at: datetime) -> Timeliness:
        """How a resolution at `resolved_at` compares with the original appointment known at `known_at`."""
        if fact.outcome in CLOSING_OUTCOMES and self._rules.withdrawn_stopped_on_time:
            return "on_time"
        appointment = fact.appointment_known_at(known_at)
        if resolved_at >= self.late_from(appointment):
            return "late"
        if resolved_at.astimezone(self._tz).date() < appointment.astimezone(self._tz).date():
            return "early"
        return "on_time"

    def overdue_at(self, fact: FactRow, moment: datetime) -> bool:
        """True when a dossier still pending at `moment` is past its appointment (đang giải quyết quá hạn)."""
        if self._rules.supplement_within_deadline and fact.waiting_supplement_at(moment):
            return False
        return moment >= self.late_from(fact.appointment_known_at(moment))
