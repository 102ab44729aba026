"""Service-quality indicators (chỉ số) in the spirit of Decision 766/QĐ-TTg, as far as our data reaches.

Populations, all within [period_from, cutoff) and without dossiers refused at the desk:
- received: dossiers received in the period — online, digitisation of dossiers (from their manifests), reuse of
  digitised papers, online payment;
- resolved: dossiers resolved in the period — on time (from Form 06), electronic results (a signed result file)
  and processing time (result outcomes only), satisfaction;
- certification acts of the period's local days (paper and electronic, from copy.certified): e-certified copies.
Timeliness comes from Form 06, so it is frozen at `as_of`; ratings, payments and digitisation flags are
taken as currently recorded (their timing is not in the fact row).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from .certifications import Certifications
from .facts import RESULT_OUTCOMES, FactRow
from .form06 import form06
from .measures import Elapsed, Rate, calendar_hours, mean
from .rules import CountingRules, Window, report_cutoff
from .scores import Score, scores_766


@dataclass(frozen=True, slots=True)
class ProcedureTime:
    """Average processing time of one procedure vs its limit, over its dossiers resolved with a result."""

    procedure_code: str
    procedure_name: str
    resolved: int
    average_hours: float | None
    average_allowed_hours: float | None  # received → original appointment, measured the same way
    limit_hours: float | None  # from the catalogue, when given


@dataclass(frozen=True, slots=True)
class Indicators:
    period_from: datetime
    period_to: datetime
    cutoff: datetime
    received: int
    resolved: int
    on_time: Rate  # (early + on time) / resolved — cols (8 + 9) / 7
    online: Rate  # full-online channel / received for procedures eligible for full online (toàn trình)
    dossiers_digitised: Rate  # digitised (FactRow.digitised) / received with papers (FactRow.with_papers)
    results_electronic: Rate  # signed result file / resolved with a result
    e_certified_copies: Rate  # electronic certification acts / all acts (chứng thực bản sao điện tử)
    online_payment: Rate  # paid online / received with a fee
    satisfaction: Rate  # rating >= 4 / rated
    reuse: Rate  # scanned papers reused (state 2, 3) / scanned papers (state 1, 2, 3) of dossiers received
    resolved_late: int  # col 10
    pending_overdue: int  # col 13
    processing_times: tuple[ProcedureTime, ...]
    time_basis: str  # "calendar hours" or "elapsed callable"
    scores: tuple[Score, ...]  # Decision 766 point estimates

    @property
    def overdue_total(self) -> int:
        """Late resolutions plus pending overdue: zero is the ward's headline."""
        return self.resolved_late + self.pending_overdue


def indicators(facts: Iterable[FactRow], agencies: set[str], period_from: datetime, period_to: datetime,
               *, as_of: datetime | None = None, rules: CountingRules = CountingRules(),
               elapsed: Elapsed | None = None, limit_hours: Mapping[str, float] | None = None,
               certifications: Certifications = Certifications()) -> Indicators:
    """Compute the indicators. `elapsed` measures hours (e.g. working hours); default: calendar hours;
    `certifications`: the agencies' certification acts of the period (certification facts)."""
    cutoff = report_cutoff(period_from, period_to, as_of)
    selected = list(rules.select(facts, agencies))
    total = form06(selected, agencies, period_from, period_to, as_of, rules).total
    tally = _Tally(Window(period_from, cutoff), elapsed or calendar_hours)
    for fact in selected:
        tally.add(fact)
    r = tally.rates()
    on_time = Rate(total.resolved_early + total.resolved_on_time, total.resolved_total)
    certified = certifications.e_certification
    return Indicators(
        period_from, period_to, cutoff, tally.received, tally.resolved, on_time=on_time,
        online=r["online"], dossiers_digitised=r["digitised"], results_electronic=r["electronic"],
        e_certified_copies=certified, online_payment=r["payment"], satisfaction=r["satisfaction"],
        reuse=r["reuse"], resolved_late=total.resolved_late, pending_overdue=total.pending_overdue,
        processing_times=tally.times(limit_hours or {}),
        time_basis="calendar hours" if elapsed is None else "elapsed callable",
        scores=scores_766(on_time, r["online"], r["digitised"], r["electronic"], certified, r["payment"],
                          r["satisfaction"], r["reuse"]))


_KEYS = ("online", "digitised", "electronic", "reuse", "payment", "satisfaction")


class _Tally:
    def __init__(self, window: Window, elapsed: Elapsed) -> None:
        self.window, self.elapsed = window, elapsed
        self.received = self.resolved = 0
        self.counts = {key: [0, 0] for key in _KEYS}  # key -> [numerator, denominator]
        self.hours: dict[str, tuple[str, list[float], list[float]]] = {}

    def _count(self, key: str, hit: bool, weight: int = 1) -> None:
        self.counts[key][0] += weight if hit else 0
        self.counts[key][1] += weight

    def add(self, fact: FactRow) -> None:
        if self.window.received(fact):
            self._add_received(fact)
        if self.window.resolved(fact):
            self._add_resolved(fact)

    def _add_received(self, fact: FactRow) -> None:
        self.received += 1
        if fact.online_level == "full":
            self._count("online", fact.channel == "online")
        if fact.with_papers:
            self._count("digitised", fact.digitised)
        self.counts["reuse"][0] += fact.documents_reused
        self.counts["reuse"][1] += fact.documents_scanned
        if fact.online_payment is not None:
            self._count("payment", fact.online_payment)

    def _add_resolved(self, fact: FactRow) -> None:
        self.resolved += 1
        if fact.rating is not None:
            self._count("satisfaction", fact.rating >= 4)
        if fact.outcome in RESULT_OUTCOMES and fact.resolved_at is not None:
            self._count("electronic", fact.electronic_result)
            _, used, allowed = self.hours.setdefault(fact.procedure_code, (fact.procedure_name, [], []))
            used.append(self.elapsed(fact.received_at, fact.resolved_at))
            allowed.append(self.elapsed(fact.received_at, fact.appointment_at))

    def rates(self) -> dict[str, Rate]:
        return {key: Rate(*pair) for key, pair in self.counts.items()}

    def times(self, limits: Mapping[str, float]) -> tuple[ProcedureTime, ...]:
        return tuple(ProcedureTime(code, name, len(used), mean(used), mean(allowed), limits.get(code))
                     for code, (name, used, allowed) in sorted(self.hours.items()))
