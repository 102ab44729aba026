"""Counting rules (quy ước đếm) for Form 06 and the indicators.

docs/domain.md marks several conventions as unconfirmed; each is a flag here with the default we chose.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .facts import FactRow

AttributeTo = Literal["receiving", "competent", "either"]


@dataclass(frozen=True, slots=True)
class CountingRules:
    """How dossiers are attributed and classified.

    - attribute_to: a dossier belongs to the report when its receiving agency, its competent agency, or
      either of them is in the agency set.
    - withdrawn_stopped_on_time: withdrawn (rút) and stopped (dừng) dossiers count as resolved on time
      (col 9); when False they are judged by their resolution time like any other.
    - supplement_within_deadline: a pending dossier waiting for a supplement counts as within deadline
      (col 12) whatever its appointment.
    - channel_split_includes_carried_over: cols 4–5 split all of col 3 by channel (then col 3 = 4 + 5 and
      col 6 is an "of which"); by default they cover new receipts only and col 3 = 4 + 5 + 6.
    - judge_to_minute: the appointment is a minute on the slip, so anything within that minute is on time
      (appointment 16:00 → 16:00:59 is on time, 16:01:00 is late). When False: late iff after the instant.
    - timezone: the local zone whose calendar date separates early (trước hạn) from on time (đúng hạn).
    """

    attribute_to: AttributeTo = "either"
    withdrawn_stopped_on_time: bool = True
    supplement_within_deadline: bool = True
    channel_split_includes_carried_over: bool = False
    judge_to_minute: bool = True
    timezone: str = "Asia/Ho_Chi_Minh"

    def belongs(self, fact: FactRow, agencies: set[str] | frozenset[str]) -> bool:
        if self.attribute_to == "receiving":
            return fact.receiving_agency in agencies
        if self.attribute_to == "competent":
            return fact.competent_agency in agencies
        return fact.receiving_agency in agencies or fact.competent_agency in agencies

    def select(self, facts: Iterable[FactRow], agencies: set[str] | frozenset[str]) -> Iterator[FactRow]:
        """The facts of these agencies, without dossiers refused at the desk (không được tiếp nhận)."""
        for fact in facts:
            if not fact.refused_at_desk and self.belongs(fact, agencies):
                yield fact


def report_cutoff(period_from: datetime, period_to: datetime, as_of: datetime | None) -> datetime:
    """The moment the report looks at: period end, or `as_of` if earlier. Checks the arguments."""
    for name, moment in (("period_from", period_from), ("period_to", period_to), ("as_of", as_of)):
        if moment is not None and moment.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    if period_to <= period_from:
        raise ValueError("period_to must be after period_from")
    if as_of is not None and as_of < period_from:
        raise ValueError("as_of is before the period starts: nothing is known about it yet")
    return period_to if as_of is None else min(period_to, as_of)


@dataclass(frozen=True, slots=True)
class Window:
    """The part of a period known at the cutoff: [start, cutoff)."""

    start: datetime
    cutoff: datetime

    def received(self, fact: FactRow) -> bool:
        return self.start <= fact.received_at < self.cutoff

    def resolved(self, fact: FactRow) -> bool:
        return fact.resolved_at is not None and self.start <= fact.resolved_at < self.cutoff
