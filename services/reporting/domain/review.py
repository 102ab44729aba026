"""Procedure review aid (rà soát, đơn giản hóa TTHC): usage and time taken vs the limit, per procedure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from .facts import RESULT_OUTCOMES, FactRow
from .measures import Elapsed, Rate, mean, percentile
from .rules import CountingRules, Window, report_cutoff
from .timing import Judge


@dataclass(frozen=True, slots=True)
class ProcedureReview:
    procedure_code: str
    procedure_name: str
    received: int  # volume received in the period
    resolved: int  # resolved in the period (any outcome)
    average_hours: float | None  # time used, over dossiers resolved with a result
    p90_hours: float | None
    limit_hours: float | None
    over_limit: Rate  # resolved with a result whose time used exceeds the limit
    with_supplement: Rate  # received dossiers with at least one supplement request (yêu cầu bổ sung)
    late: Rate  # resolved late (quá hạn) / resolved, judged as in Form 06


@dataclass
class _Acc:
    name: str
    received: int = 0
    supplements: int = 0
    resolved: int = 0
    late: int = 0
    hours: list[float] = field(default_factory=list)


def procedure_review(facts: Iterable[FactRow], agencies: set[str], period_from: datetime,
                     period_to: datetime, elapsed: Elapsed, limit_hours: Mapping[str, float], *,
                     as_of: datetime | None = None,
                     rules: CountingRules = CountingRules()) -> tuple[ProcedureReview, ...]:
    """One line per procedure seen in the period, busiest first. `elapsed` gives hours (e.g. working)."""
    window = Window(period_from, report_cutoff(period_from, period_to, as_of))
    judge = Judge(rules)
    accs: dict[str, _Acc] = {}
    for fact in rules.select(facts, agencies):
        if window.received(fact) or window.resolved(fact):
            acc = accs.setdefault(fact.procedure_code, _Acc(fact.procedure_name))
            _add(acc, fact, window, judge, elapsed)
    lines = (_line(code, acc, limit_hours.get(code)) for code, acc in accs.items())
    return tuple(sorted(lines, key=lambda line: (-line.received, line.procedure_code)))


def _add(acc: _Acc, fact: FactRow, window: Window, judge: Judge, elapsed: Elapsed) -> None:
    received, resolved = window.received(fact), window.resolved(fact)
    if received:
        acc.received += 1
        acc.supplements += fact.supplement_requested > 0
    if resolved and fact.resolved_at is not None:
        acc.resolved += 1
        acc.late += judge.resolution(fact, fact.resolved_at, window.cutoff) == "late"
        if fact.outcome in RESULT_OUTCOMES:
            acc.hours.append(elapsed(fact.received_at, fact.resolved_at))


def _line(code: str, acc: _Acc, limit: float | None) -> ProcedureReview:
    over = sum(hours > limit for hours in acc.hours) if limit is not None else 0
    return ProcedureReview(
        code, acc.name, acc.received, acc.resolved, mean(acc.hours), percentile(acc.hours, 0.9), limit,
        over_limit=Rate(over, len(acc.hours) if limit is not None else 0),
        with_supplement=Rate(acc.supplements, acc.received), late=Rate(acc.late, acc.resolved))
