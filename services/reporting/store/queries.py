"""What reports and the business gauges read from the live generation.

Form 06's fast path (PostgreSQL only, `FAST_FORM06`): whole local days from the daily rollups, then in SQL
only the rows the rollups cannot judge — the cutoff's own day, rows whose appointment moved after their
resolution (`irregular`), and the dossiers still pending at the cutoff (a GiST index on their open period).
services/reporting/reports.py turns the rows into the form's counts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.db.bulk import Dialects
from services.reporting.domain import CountingRules
from services.reporting.domain.projection import Baked
from services.reporting.domain.state import FactState
from services.reporting.store.generations import baked_of, ensure_live, live_generation
from services.reporting.store.tables import OPEN_RANGE, GenerationTables, generation_tables

# Whether this database can count Form 06 from the rollups (its SQL is PostgreSQL's).
FAST_FORM06: Dialects[bool] = Dialects(postgresql=True, portable=False)


async def _pg_snapshot(conn: AsyncConnection) -> None:
    await conn.execution_options(isolation_level="REPEATABLE READ")
    await conn.execute(text("SET LOCAL jit = off"))  # compiling costs more than these queries


async def _as_is(conn: AsyncConnection) -> None:
    """SQLite: transactions are serialisable anyway."""


_SNAPSHOT: Dialects[Callable[[AsyncConnection], Coroutine[Any, Any, None]]] = Dialects(
    postgresql=_pg_snapshot, portable=_as_is)


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One snapshot for all the statements of a report (PostgreSQL REPEATABLE READ): the live consumer
    commits between them, the numbers must still add up."""
    async with engine.connect() as conn:
        await _SNAPSHOT.of(conn)(conn)
        yield conn


async def live(engine: AsyncEngine, conn: AsyncConnection, first: Baked) -> tuple[GenerationTables, Baked]:
    """The live generation's tables and baked rules; on a brand-new database the (empty) first generation
    is created, with the rules `first`, in a transaction of its own."""
    generation = await conn.run_sync(live_generation)
    if generation is None:
        async with engine.begin() as writer:
            generation = await writer.run_sync(ensure_live, first)
            baked = await writer.run_sync(baked_of, generation)
        return generation_tables(generation), baked
    return generation_tables(generation), await conn.run_sync(baked_of, generation)


def _agency_clause(f: Table, rules: CountingRules, agencies: set[str]) -> Any:
    if rules.attribute_to == "receiving":
        return f.c.receiving_agency.in_(agencies)
    if rules.attribute_to == "competent":
        return f.c.competent_agency.in_(agencies)
    return or_(f.c.receiving_agency.in_(agencies), f.c.competent_agency.in_(agencies))


async def fact_states(conn: AsyncConnection, t: GenerationTables, rules: CountingRules, agencies: set[str],
                      start: datetime, cutoff: datetime) -> list[FactState]:
    """Reportable rows of the agencies received before the cutoff and not resolved before `start`."""
    f = t.facts
    query = select(f).where(f.c.reportable, _agency_clause(f, rules, agencies), f.c.received_at < cutoff,
                            or_(f.c.resolved_at.is_(None), f.c.resolved_at >= start))
    return [FactState.from_row(row) for row in (await conn.execute(query)).mappings()]


async def time_limits(conn: AsyncConnection, t: GenerationTables, rules: CountingRules,
                      agencies: set[str]) -> list[Any]:
    """(procedure code, time limit value, unit, procedure version) of the agencies' procedures, distinct."""
    f = t.facts
    query = (select(f.c.procedure_code, f.c.time_limit_value, f.c.time_limit_unit, f.c.procedure_version)
             .where(f.c.reportable, _agency_clause(f, rules, agencies), f.c.time_limit_unit.is_not(None))
             .distinct())
    return list(await conn.execute(query))


async def pending_past_appointment(conn: AsyncConnection, t: GenerationTables, rules: CountingRules,
                                   agencies: set[str], now: datetime) -> list[FactState]:
    """Reportable, unresolved rows whose appointment is not after `now`, earliest appointment first."""
    f = t.facts
    rows = await conn.execute(select(f).where(
        f.c.reportable, f.c.resolved_at.is_(None), f.c.appointment_at <= now,
        _agency_clause(f, rules, agencies)).order_by(f.c.appointment_at))
    return [FactState.from_row(row) for row in rows.mappings()]


# ---- Form 06 from the rollups (PostgreSQL) ---------------------------------------------------------------

@dataclass(frozen=True)
class Form06Rows:
    """What the fast path reads; params: f (period start), d (midnight of the cutoff's day), c (cutoff)."""

    received: list[Any]  # level, field, channel, received in [F, D), received before F
    settled: list[Any]  # level, field, channel, outcome_class, timeliness, apology, in [F, D), before F
    edge: list[Any]  # level, field, channel, is_new, raw verdict or NULL, outcome, apology, count
    pending: list[Any]  # level, field, pending at C, of them overdue


async def form06_rows(conn: AsyncConnection, t: GenerationTables, rules: CountingRules,
                      params: dict[str, Any]) -> Form06Rows:
    where_agency = _AGENCY_SQL[rules.attribute_to]
    received = await conn.execute(text(
        f"SELECT level, field, channel, {_INSIDE_AND_BEFORE} "
        f"FROM {t.received_daily.name} WHERE day < :d_day AND {where_agency} GROUP BY 1, 2, 3"), params)
    settled = await conn.execute(text(
        f"SELECT level, field, channel, outcome_class, timeliness, apology, {_INSIDE_AND_BEFORE} "
        f"FROM {t.resolved_daily.name} WHERE day < :d_day AND {where_agency} GROUP BY 1, 2, 3, 4, 5, 6"), params)
    edge = await conn.execute(text(_edge_sql(t.facts, where_agency, rules.judge_to_minute)), params)
    pending = await conn.execute(text(_pending_sql(t.facts, where_agency, rules.judge_to_minute)), params)
    return Form06Rows(list(received), list(settled), list(edge), list(pending))


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


# ---- certification facts ----------------------------------------------------------------------------------

def _certified_query(t: GenerationTables, agencies: set[str] | None, first_day: date, last_day: date) -> Any:
    c = t.certified_daily
    query = (select(c.c.agency, c.c.medium, func.sum(c.c.acts), func.sum(c.c.copies))
             .where(c.c.day >= first_day, c.c.day <= last_day).group_by(c.c.agency, c.c.medium))
    return query if agencies is None else query.where(c.c.agency.in_(agencies))


async def certification_rows(conn: AsyncConnection, t: GenerationTables, agencies: set[str], first_day: date,
                             last_day: date) -> list[tuple[str, str, int, int]]:
    """(agency, medium, acts, copies) of the agencies' certification acts on local days [first_day, last_day]."""
    rows = await conn.execute(_certified_query(t, agencies, first_day, last_day))
    return [(agency, medium, int(acts), int(copies)) for agency, medium, acts, copies in rows]


# ---- the business gauges ---------------------------------------------------------------------------------

def certification_gauge_rows(conn: Connection, first: Baked, now: datetime,
                             window_days: int) -> list[tuple[str, str, int, int]]:
    """(agency, medium, acts, copies) of every agency's acts on the last `window_days` local days."""
    generation = ensure_live(conn, first)
    last_day = baked_of(conn, generation).day(now)
    rows = conn.execute(_certified_query(generation_tables(generation), None,
                                         last_day - timedelta(days=window_days - 1), last_day))
    return [(agency, medium, int(acts), int(copies)) for agency, medium, acts, copies in rows]


def gauge_rows(conn: Connection, first: Baked, now: datetime,
               window_days: int) -> tuple[list[Any], list[Any]]:
    """Of the live generation (created with `first` if none): the pending reportable rows received by `now`
    (competent agency, case state, appointment, waiting since), and the resolutions of the last
    `window_days` local days (competent agency, outcome class, timeliness, count)."""
    generation = ensure_live(conn, first)
    t = generation_tables(generation)
    f = t.facts
    pending = conn.execute(select(
        f.c.competent_agency, f.c.case_state, f.c.appointment_at, f.c.waiting_supplement_since)
        .where(f.c.reportable, f.c.resolved_at.is_(None), f.c.received_at <= now)).all()
    first_day: date = baked_of(conn, generation).day(now) - timedelta(days=window_days - 1)
    r = t.resolved_daily
    settled = conn.execute(
        select(r.c.competent_agency, r.c.outcome_class, r.c.timeliness, func.sum(r.c["count"]))
        .where(r.c.day >= first_day).group_by(r.c.competent_agency, r.c.outcome_class, r.c.timeliness)).all()
    return list(pending), list(settled)
