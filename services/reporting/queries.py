"""Reading the live generation: Form 06, indicators, procedure review, overdue dossiers.

Form 06 has two ways to the same numbers:
- `reference`: load the fact rows that touch the period and call the domain (`domain.form06`). Any
  database; what the tests hold everything else to.
- `fast` (PostgreSQL): whole local days come from the daily rollups (a few thousand rows for an
  agency-year); only the rows the rollups cannot judge are classified in SQL — the partial day before
  `as_of`, dossiers whose appointment moved after their resolution (`irregular`), and the dossiers still
  pending at the cutoff (found with a GiST index on their open period). Carried-over dossiers are
  received-before minus resolved-before, per level, field and channel.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, or_, select, text
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
from services.reporting.domain.facts import CLOSING_OUTCOMES
from services.reporting.projection import Baked, FactState
from services.reporting.service import baked_of, ensure_live, live_generation
from services.reporting.store import OPEN_RANGE, GenerationTables, generation_tables

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


class Reports:
    def __init__(self, engine: AsyncEngine, rules: CountingRules, calendar: WorkCalendar,
                 fast: bool = True) -> None:
        self.engine, self.rules, self.calendar, self.fast = engine, rules, calendar, fast
        self.tz = ZoneInfo(rules.timezone)
        self._baked = Baked(rules.timezone, rules.judge_to_minute)

    @asynccontextmanager
    async def _reader(self) -> AsyncIterator[AsyncConnection]:
        """One snapshot for all the statements of a report (PostgreSQL REPEATABLE READ; SQLite transactions
        are serialisable anyway): the live consumer commits between them, the numbers must still add up."""
        async with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execution_options(isolation_level="REPEATABLE READ")
                await conn.execute(text("SET LOCAL jit = off"))  # compiling costs more than these queries
            yield conn

    async def _live(self, conn: AsyncConnection) -> tuple[GenerationTables, Baked]:
        generation = await conn.run_sync(live_generation)
        if generation is None:  # a brand-new database: create the (empty) first generation
            async with self.engine.begin() as writer:
                generation = await writer.run_sync(ensure_live, self._baked)
                baked = await writer.run_sync(baked_of, generation)
            return generation_tables(generation), baked
        return generation_tables(generation), await conn.run_sync(baked_of, generation)

    # ---- Form 06 --------------------------------------------------------------------------------------
    async def form06(self, agencies: set[str], period: Period, *, method: str = "auto") -> tuple[Form06, str]:
        """The form and how it was counted ("fast" or "reference")."""
        async with self._reader() as conn:
            tables, baked = await self._live(conn)
            if method != "reference" and self._fast_possible(conn, baked, period):
                return await self._form06_fast(conn, tables, agencies, period), "fast"
            if method == "fast":
                raise ValueError("the fast path needs PostgreSQL, rollups with the current rules, whole days")
            facts = await self._facts(conn, tables, agencies, period.start, period.cutoff)
        return form06(facts, agencies, period.start, period.end, period.as_of, self.rules), "reference"

    def _fast_possible(self, conn: AsyncConnection, baked: Baked, period: Period) -> bool:
        local_start = period.start.astimezone(self.tz)
        return (self.fast and conn.dialect.name == "postgresql" and period.cutoff >= period.start
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
        where_agency = _AGENCY_SQL[self.rules.attribute_to]
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

        received = await conn.execute(text(
            f"SELECT level, field, channel, "
            f"{_INSIDE_AND_BEFORE} "
            f"FROM {t.received_daily.name} WHERE day < :d_day AND {where_agency} GROUP BY 1, 2, 3"), params)
        for level, field, channel, inside, before in received:
            new(groups[(level, field)], channel, int(inside))
            carried[(level, field, channel)] += int(before)
        settled = await conn.execute(text(
            f"SELECT level, field, channel, outcome_class, timeliness, apology, "
            f"{_INSIDE_AND_BEFORE} "
            f"FROM {t.resolved_daily.name} WHERE day < :d_day AND {where_agency} GROUP BY 1, 2, 3, 4, 5, 6"), params)
        for level, field, channel, outcome_class, timeliness, apology, inside, before in settled:
            carried[(level, field, channel)] -= int(before)
            if timeliness != "irregular" and inside:
                resolved(groups[(level, field)], timeliness, outcome_class == "closing", apology, int(inside))
        for level, field, channel, is_new, raw, outcome, apology, n in await conn.execute(
                text(_edge_sql(t.facts, where_agency, self.rules.judge_to_minute)), params):
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
        for level, field, pending, overdue in await conn.execute(
                text(_pending_sql(t.facts, where_agency, self.rules.judge_to_minute)), params):
            slots = groups[(level, field)]
            slots[C11] += int(pending)
            slots[C13] += int(overdue)
            slots[C12] += int(pending) - int(overdue)
        return form06_from_groups(groups, agencies, period.start, period.end, period.as_of, self.rules)

    # ---- rows for the domain --------------------------------------------------------------------------
    async def _facts(self, conn: AsyncConnection, t: GenerationTables, agencies: set[str], start: datetime,
                     cutoff: datetime) -> list[FactRow]:
        """Reportable rows of the agencies received before the cutoff and not resolved before `start`."""
        f = t.facts
        query = select(f).where(f.c.reportable, _agency_clause(f, self.rules, agencies), f.c.received_at < cutoff,
                                or_(f.c.resolved_at.is_(None), f.c.resolved_at >= start))
        return [FactState.from_row(row).fact_row() for row in (await conn.execute(query)).mappings()]

    async def facts(self, agencies: set[str], period: Period) -> list[FactRow]:
        async with self._reader() as conn:
            tables, _ = await self._live(conn)
            return await self._facts(conn, tables, agencies, period.start, period.cutoff)

    async def indicators(self, agencies: set[str], period: Period) -> Indicators:
        async with self._reader() as conn:
            tables, _ = await self._live(conn)
            facts = await self._facts(conn, tables, agencies, period.start, period.cutoff)
            limits = await self._limits(conn, tables, agencies)
        return indicators(facts, agencies, period.start, period.end, as_of=period.as_of, rules=self.rules,
                          elapsed=self.calendar.working_hours_between, limit_hours=limits)

    async def review(self, agencies: set[str], period: Period) -> tuple[ProcedureReview, ...]:
        async with self._reader() as conn:
            tables, _ = await self._live(conn)
            facts = await self._facts(conn, tables, agencies, period.start, period.cutoff)
            limits = await self._limits(conn, tables, agencies)
        return procedure_review(facts, agencies, period.start, period.end, self.calendar.working_hours_between,
                                limits, as_of=period.as_of, rules=self.rules)

    async def _limits(self, conn: AsyncConnection, t: GenerationTables, agencies: set[str]) -> dict[str, float]:
        """Time limit in working hours per procedure (its newest version seen); none for calendar days."""
        f = t.facts
        query = (select(f.c.procedure_code, f.c.time_limit_value, f.c.time_limit_unit, f.c.procedure_version)
                 .where(f.c.reportable, _agency_clause(f, self.rules, agencies), f.c.time_limit_unit.is_not(None))
                 .distinct())
        best: dict[str, tuple[int, float | None]] = {}
        per_day = self.calendar.hours_per_day
        for code, value, unit, version in await conn.execute(query):
            hours = {"working_days": (value or 0) * per_day, "hours": value, "same_day": per_day}.get(unit)
            if code not in best or (version or 0) > best[code][0]:
                best[code] = (version or 0, hours)
        return {code: hours for code, (_, hours) in best.items() if hours is not None}

    async def overdue(self, agencies: set[str], now: datetime) -> list[tuple[FactState, float]]:
        """Pending dossiers past their appointment now (đang giải quyết quá hạn), most overdue first,
        with the working hours since the appointment."""
        judge = Judge(self.rules)
        async with self._reader() as conn:
            tables, _ = await self._live(conn)
            f = tables.facts
            rows = await conn.execute(select(f).where(
                f.c.reportable, f.c.resolved_at.is_(None), f.c.appointment_at <= now,
                _agency_clause(f, self.rules, agencies)).order_by(f.c.appointment_at))
            states = [FactState.from_row(row) for row in rows.mappings()]
        out = []
        for state in states:
            if judge.overdue_at(state.fact_row(), now):
                assert state.appointment_at is not None
                out.append((state, self.calendar.working_hours_between(state.appointment_at, now)))
        return out


def _agency_clause(f: Table, rules: CountingRules, agencies: set[str]) -> Any:
    if rules.attribute_to == "receiving":
        return f.c.receiving_agency.in_(agencies)
    if rules.attribute_to == "competent":
        return f.c.competent_agency.in_(agencies)
    return or_(f.c.receiving_agency.in_(agencies), f.c.competent_agency.in_(agencies))


_INSIDE_AND_BEFORE = ("COALESCE(SUM(count) FILTER (WHERE day >= :f_day), 0), "
                      "COALESCE(SUM(count) FILTER (WHERE day < :f_day), 0)")
_AGENCY_SQL = {
    "receiving": "receiving_agency = ANY(:agencies)",
    "competent": "competent_agency = ANY(:agencies)",
    "either": "(receiving_agency = ANY(:agencies) OR competent_agency = ANY(:agencies))",
}

# The original appointment as known at the cutoff :c (FactRow.appointment_known_at).
_APPOINTMENT_AT_C = (
    "CASE WHEN appointment_history IS NULL THEN appointment_at ELSE COALESCE(("
    "SELECT (h.v->>0)::timestamptz FROM json_array_elements(appointment_history) WITH ORDINALITY AS h(v, n) "
    "WHERE (h.v->>1)::timestamptz > CAST(:c AS timestamptz) ORDER BY h.n LIMIT 1), appointment_at) END")
_WAITING_AT_C = (
    "((waiting_supplement_since IS NOT NULL AND waiting_supplement_since <= :c) OR "
    "(supplement_waits IS NOT NULL AND EXISTS (SELECT 1 FROM json_array_elements(supplement_waits) w "
    "WHERE (w->>0)::timestamptz <= CAST(:c AS timestamptz) AND CAST(:c AS timestamptz) < (w->>1)::timestamptz)))")


def _late_from(expr: str, to_minute: bool) -> str:
    """Judge.late_from in SQL: the first instant past the appointment."""
    if to_minute:
        return f"(date_trunc('minute', {expr}) + interval '1 minute')"
    return f"({expr} + interval '1 microsecond')"


def _edge_sql(facts: Table, where_agency: str, to_minute: bool) -> str:
    """Rows the rollups do not cover: received or resolved on the cutoff's own day [D, C), and irregular
    rows resolved in [F, D); each row's verdict computed as Judge.resolution does."""
    return f"""
        WITH rows AS (
            SELECT level, field, channel, received_at, resolved_at, outcome, irregular,
                   extended_appointment_at IS NOT NULL AS apology, {_APPOINTMENT_AT_C} AS appt
            FROM {facts.name}
            WHERE reportable AND {where_agency} AND received_at < :c AND (
                  (received_at >= :d AND received_at < :c) OR (resolved_at >= :d AND resolved_at < :c)
                  OR (irregular AND resolved_at >= :f AND resolved_at < :d)))
        SELECT level, field, channel, received_at >= :d AS is_new,
               CASE WHEN resolved_at IS NULL OR resolved_at >= :c OR resolved_at < :f
                         OR (resolved_at < :d AND NOT irregular) THEN NULL
                    WHEN resolved_at >= {_late_from("appt", to_minute)} THEN 'late'
                    WHEN (resolved_at AT TIME ZONE :tz)::date < (appt AT TIME ZONE :tz)::date THEN 'early'
                    ELSE 'on_time' END AS verdict,
               outcome, apology, count(*)
        FROM rows GROUP BY 1, 2, 3, 4, 5, 6, 7"""


def _pending_sql(facts: Table, where_agency: str, to_minute: bool) -> str:
    """Dossiers pending at the cutoff (received < C <= resolved) and, of them, those overdue
    (Judge.overdue_at)."""
    overdue = (f"NOT (CAST(:supp AS boolean) AND {_WAITING_AT_C}) "
               f"AND CAST(:c AS timestamptz) >= {_late_from(_APPOINTMENT_AT_C, to_minute)}")
    return f"""
        SELECT level, field, count(*), count(*) FILTER (WHERE {overdue})
        FROM {facts.name}
        WHERE reportable AND {where_agency} AND {OPEN_RANGE} @> CAST(:c AS timestamptz)
        GROUP BY 1, 2"""


def rates_json(ind: Indicators) -> dict[str, Any]:
    def rate(r: Any) -> dict[str, Any]:
        return {"numerator": r.numerator, "denominator": r.denominator, "percent": r.percent()}

    return {
        "on_time": rate(ind.on_time), "online": rate(ind.online), "dossiers_digitised": rate(ind.dossiers_digitised),
        "results_electronic": rate(ind.results_electronic), "e_certified_copies": rate(ind.e_certified_copies),
        "online_payment": rate(ind.online_payment), "satisfaction": rate(ind.satisfaction),
    }
