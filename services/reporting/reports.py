"""Reports on the live generation: Form 06, indicators, procedure review, overdue dossiers.

Form 06 has two ways to the same numbers:
- `reference`: load the fact rows that touch the period and call the domain (`domain.form06`). Any
  database; what the tests hold everything else to.
- `fast` (PostgreSQL): whole local days come from the daily rollups (a few thousand rows for an
  agency-year); only the rows the rollups cannot judge are classified in SQL — the partial day before
  `as_of`, dossiers whose appointment moved after their resolution (`irregular`), and the dossiers still
  pending at the cutoff (found with a GiST index on their open period). Carried-over dossiers are
  received-before minus resolved-before, per level, field and channel. The SQL is in store/queries.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.calendar import WorkCalendar
from services.reporting.domain import (
    CountingRules,
    FactRow,
    Form06,
    Indicators,
    Judge,
    ProcedureReview,
    form06,
    form06_from_groups,
    indicators,
    procedure_review,
)
from services.reporting.domain.certifications import Certifications, totals
from services.reporting.domain.facts import CLOSING_OUTCOMES
from services.reporting.domain.projection import Baked
from services.reporting.domain.state import FactState
from services.reporting.store import queries
from services.reporting.store.tables import GenerationTables

# Counter slots (same order as Form06Counts): cols 3..13, then late with apology.
C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, APOLOGY = range(12)
VERDICT_SLOT = {"early": C8, "on_time": C9, "late": C10}


@dataclass(frozen=True)
class Period:
    """[start, end) from local dates (`to` inclusive) and the moment the report looks at."""

    start: datetime
    end: datetime
    as_of: datetime | None

    @classmethod
    def of_days(cls, first: date, last: date, tz: ZoneInfo, as_of: datetime | None) -> Period:
        start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        return cls(start, end, as_of)

    @property
    def cutoff(self) -> datetime:
        return self.end if self.as_of is None else min(self.end, self.as_of)

    def days(self, tz: ZoneInfo) -> tuple[date, date]:
        """The local days certification facts are counted on: from the first day to the cutoff's (whole days:
        the facts are daily), or none (last before first) when the cutoff is the period's start."""
        last = (self.cutoff - timedelta(microseconds=1)).astimezone(tz).date()
        return self.start.astimezone(tz).date(), last


class Reports:
    def __init__(self, engine: AsyncEngine, rules: CountingRules, calendar: WorkCalendar,
                 fast: bool = True) -> None:
        self.engine, self.rules, self.calendar, self.fast = engine, rules, calendar, fast
        self.tz = ZoneInfo(rules.timezone)
        self._baked = Baked(rules.timezone, rules.judge_to_minute)

    async def _live(self, conn: AsyncConnection) -> tuple[GenerationTables, Baked]:
        return await queries.live(self.engine, conn, self._baked)

    # ---- Form 06 --------------------------------------------------------------------------------------
    async def form06(self, agencies: set[str], period: Period, *, method: str = "auto") -> tuple[Form06, str]:
        """The form and how it was counted ("fast" or "reference")."""
        async with queries.snapshot(self.engine) as conn:
            tables, baked = await self._live(conn)
            if method != "reference" and self._fast_possible(conn, baked, period):
                return await self._form06_fast(conn, tables, agencies, period), "fast"
            if method == "fast":
                raise ValueError("the fast path needs PostgreSQL, rollups with the current rules, whole days")
            facts = await self._facts(conn, tables, agencies, period.start, period.cutoff)
        return form06(facts, agencies, period.start, period.end, period.as_of, self.rules), "reference"

    def _fast_possible(self, conn: AsyncConnection, baked: Baked, period: Period) -> bool:
        local_start = period.start.astimezone(self.tz)
        return (self.fast and queries.FAST_FORM06.of(conn) and period.cutoff >= period.start
                and (baked.timezone, baked.judge_to_minute) == (self.rules.timezone, self.rules.judge_to_minute)
                and local_start.time() == time(0))

    async def _form06_fast(self, conn: AsyncConnection, t: GenerationTables, agencies: set[str],
                           period: Period) -> Form06:
        cutoff = period.cutoff
        day_of_cutoff = cutoff.astimezone(self.tz).date()
        edge = datetime.combine(day_of_cutoff, time(0), tzinfo=self.tz).astimezone(UTC)  # D: cutoff's midnight
        params: dict[str, Any] = {
            "agencies": sorted(agencies), "f": period.start, "d": edge, "c": cutoff,
            "f_day": period.start.astimezone(self.tz).date(), "d_day": day_of_cutoff, "tz": self.rules.timezone,
            "closing": self.rules.withdrawn_stopped_on_time, "supp": self.rules.supplement_within_deadline,
        }
        rows = await queries.form06_rows(conn, t, self.rules, params)
        groups: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 12)
        carried: dict[tuple[str, str, str], int] = defaultdict(int)

        def verdict(raw: str, closing: bool) -> str:
            return "on_time" if closing and self.rules.withdrawn_stopped_on_time else raw

        def resolved(slots: list[int], raw: str, closing: bool, apology: bool, n: int) -> None:
            v = verdict(raw, closing)
            slots[C7] += n
            slots[VERDICT_SLOT[v]] += n
            if v == "late" and apology:
                slots[APOLOGY] += n

        def new(slots: list[int], channel: str, n: int) -> None:
            slots[C4 if channel == "online" else C5] += n
            slots[C3] += n

        for level, field, channel, inside, before in rows.received:
            new(groups[(level, field)], channel, int(inside))
            carried[(level, field, channel)] += int(before)
        for level, field, channel, outcome_class, timeliness, apology, inside, before in rows.settled:
            carried[(level, field, channel)] -= int(before)
            if timeliness != "irregular" and inside:
                resolved(groups[(level, field)], timeliness, outcome_class == "closing", apology, int(inside))
        for level, field, channel, is_new, raw, outcome, apology, n in rows.edge:
            slots = groups[(level, field)]
            if is_new:
                new(slots, channel, int(n))
            if raw is not None:
                resolved(slots, raw, outcome in CLOSING_OUTCOMES, apology, int(n))
        for (level, field, channel), n in carried.items():
            slots = groups[(level, field)]
            slots[C3] += n
            slots[C6] += n
            if self.rules.channel_split_includes_carried_over:
                slots[C4 if channel == "online" else C5] += n
        for level, field, pending, overdue in rows.pending:
            slots = groups[(level, field)]
            slots[C11] += int(pending)
            slots[C13] += int(overdue)
            slots[C12] += int(pending) - int(overdue)
        return form06_from_groups(groups, agencies, period.start, period.end, period.as_of, self.rules)

    # ---- rows for the domain --------------------------------------------------------------------------
    async def _facts(self, conn: AsyncConnection, t: GenerationTables, agencies: set[str], start: datetime,
                     cutoff: datetime) -> list[FactRow]:
        """Reportable rows of the agencies received before the cutoff and not resolved before `start`."""
        states = await queries.fact_states(conn, t, self.rules, agencies, start, cutoff)
        return [state.fact_row() for state in states]

    async def facts(self, agencies: set[str], period: Period) -> list[FactRow]:
        async with queries.snapshot(self.engine) as conn:
            tables, _ = await self._live(conn)
            return await self._facts(conn, tables, agencies, period.start, period.cutoff)

    async def indicators(self, agencies: set[str], period: Period) -> Indicators:
        async with queries.snapshot(self.engine) as conn:
            tables, _ = await self._live(conn)
            facts = await self._facts(conn, tables, agencies, period.start, period.cutoff)
            limits = await self._limits(conn, tables, agencies)
            certified = await queries.certification_rows(conn, tables, agencies, *period.days(self.tz))
        return indicators(facts, agencies, period.start, period.end, as_of=period.as_of, rules=self.rules,
                          elapsed=self.calendar.working_hours_between, limit_hours=limits,
                          certifications=totals((medium, acts, copies) for _, medium, acts, copies in certified))

    async def certifications(self, agencies: set[str], period: Period) -> dict[str, Certifications]:
        """Per agency: its certification acts and copies of the period, paper and electronic."""
        async with queries.snapshot(self.engine) as conn:
            tables, _ = await self._live(conn)
            rows = await queries.certification_rows(conn, tables, agencies, *period.days(self.tz))
        out: dict[str, Certifications] = {}
        for agency, medium, acts, copies in rows:
            out[agency] = out.get(agency, Certifications()).add(medium, acts, copies)
        return out

    async def review(self, agencies: set[str], period: Period) -> tuple[ProcedureReview, ...]:
        async with queries.snapshot(self.engine) as conn:
            tables, _ = await self._live(conn)
            facts = await self._facts(conn, tables, agencies, period.start, period.cutoff)
            limits = await self._limits(conn, tables, agencies)
        return procedure_review(facts, agencies, period.start, period.end, self.calendar.working_hours_between,
                                limits, as_of=period.as_of, rules=self.rules)

    async def _limits(self, conn: AsyncConnection, t: GenerationTables, agencies: set[str]) -> dict[str, float]:
        """Time limit in working hours per procedure (its newest version seen); none for calendar days."""
        best: dict[str, tuple[int, float | None]] = {}
        per_day = self.calendar.hours_per_day
        for code, value, unit, version in await queries.time_limits(conn, t, self.rules, agencies):
            hours = {"working_days": (value or 0) * per_day, "hours": value, "same_day": per_day}.get(unit)
            if code not in best or (version or 0) > best[code][0]:
                best[code] = (version or 0, hours)
        return {code: hours for code, (_, hours) in best.items() if hours is not None}

    async def overdue(self, agencies: set[str], now: datetime) -> list[tuple[FactState, float]]:
        """Pending dossiers past their appointment now (đang giải quyết quá hạn), most overdue first,
        with the working hours since the appointment."""
        judge = Judge(self.rules)
        async with queries.snapshot(self.engine) as conn:
            tables, _ = await self._live(conn)
            states = await queries.pending_past_appointment(conn, tables, self.rules, agencies, now)
        out = []
        for state in states:
            if judge.overdue_at(state.fact_row(), now):
                assert state.appointment_at is not None
                out.append((state, self.calendar.working_hours_between(state.appointment_at, now)))
        return out


def rates_json(ind: Indicators) -> dict[str, Any]:
    def rate(r: Any) -> dict[str, Any]:
        return {"numerator": r.numerator, "denominator": r.denominator, "percent": r.percent()}

    return {
        "on_time": rate(ind.on_time), "online": rate(ind.online), "dossiers_digitised": rate(ind.dossiers_digitised),
        "results_electronic": rate(ind.results_electronic), "e_certified_copies": rate(ind.e_certified_copies),
        "online_payment": rate(ind.online_payment), "satisfaction": rate(ind.satisfaction),
        "reuse": rate(ind.reuse),
    }
