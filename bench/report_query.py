"""Form 06 for one agency-year through reporting's real query path, over 100,000 and 1,000,000 fact rows.

For each size a scratch PostgreSQL database (created with the onestop role) gets the reporting schema and a
new generation filled by binary COPY: dossiers of one ward received on the working days of 2024 — ward and
city procedures, supplement waits that move the appointment, late results, apologies, withdrawals, stops,
~1% still pending at the year's end — with the daily rollups made by the service's own `contributions`.
Then `Reports.form06` is timed (p50/p95 over several runs) for the year, for the year as of a moment inside
a day (the partial-day path) and for one month; the domain over loaded rows ("reference") is timed once
and its result compared. Prints a table, writes bench/results/report_query.json; never asserts on time.

    .venv/bin/python bench/report_query.py [--sizes 100000 1000000] [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import drop_database, percentile, table, write  # noqa: E402
from libs.calendar import load_calendar  # noqa: E402
from libs.db import make_engine, upgrade  # noqa: E402
from services.reporting.app import MIGRATIONS  # noqa: E402
from services.reporting.domain.projection import Baked, contributions  # noqa: E402
from services.reporting.domain.state import COLUMNS, FactState  # noqa: E402
from services.reporting.reports import Period, Reports  # noqa: E402
from services.reporting.settings import ReportingSettings  # noqa: E402
from services.reporting.store.generations import start_generation, swap  # noqa: E402
from services.reporting.store.tables import GenerationTables  # noqa: E402
from services.reporting.store.writer import GenerationWriter  # noqa: E402

PG_ADMIN = os.environ.get("ONESTOP_TEST_PG", "postgresql://onestop:onestop@127.0.0.1:5432/postgres")
VN = ZoneInfo("Asia/Ho_Chi_Minh")
WARD, CITY = "000.00.12.H55", "000.00.05.H55"
YEAR = 2024
# (code, name, field, level, online level, working days, weight)
PROCEDURES = (
    ("2.000815", "Chứng thực bản sao từ bản chính", "Chứng thực", "ward", "partial", 0, 30),
    ("2.000884", "Chứng thực chữ ký", "Chứng thực", "ward", "partial", 0, 8),
    ("1.001193", "Đăng ký khai sinh", "Hộ tịch", "ward", "full", 1, 15),
    ("1.000894", "Đăng ký kết hôn", "Hộ tịch", "ward", "partial", 1, 6),
    ("1.004873", "Xác nhận tình trạng hôn nhân", "Hộ tịch", "ward", "full", 3, 10),
    ("1.012812", "Hòa giải tranh chấp đất đai", "Đất đai", "ward", "none", 30, 2),
    ("1.013833", "Đăng ký biến động đất đai", "Đất đai", "city", "partial", 4, 6),
    ("1.012783", "Cấp đổi Giấy chứng nhận", "Đất đai", "city", "partial", 10, 4),
    ("1.009994", "Cấp giấy phép xây dựng", "Xây dựng", "city", "partial", 15, 3),
)


def _db_url(name: str) -> str:
    return PG_ADMIN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}"


def _working_days() -> list[date]:
    calendar = load_calendar()
    day, out = date(YEAR, 1, 1), []
    while day.year == YEAR:
        if calendar.is_working_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def _plus_working_days(days: list[date], index: int, n: int) -> date:
    return days[min(len(days) - 1, index + n)] if index + n < len(days) else days[-1] + timedelta(days=n)


def facts(n: int, seed: int = 6) -> list[FactState]:
    """`n` dossiers of one ward received over the working days of the year."""
    rng = random.Random(seed)
    days = _working_days()
    horizon = datetime(YEAR + 1, 1, 3, tzinfo=VN).astimezone(UTC)
    weights = [p[-1] for p in PROCEDURES]
    out = []
    for number in range(n):
        index = number * len(days) // n
        day = days[index]
        code, name, field, level, online_level, limit, _ = rng.choices(PROCEDURES, weights)[0]
        received = datetime.combine(day, clock_time(7, 30), VN).astimezone(UTC) + timedelta(
            minutes=rng.randint(0, 9 * 60))
        appointment = datetime.combine(_plus_working_days(days, index, max(limit, received.astimezone(VN).hour >= 15)),
                                       clock_time(16, 30), VN).astimezone(UTC)
        online = online_level != "none" and rng.random() < 0.4
        s = FactState(
            uuid.UUID(int=rng.getrandbits(128)), code=f"{WARD}-{day:%y%m%d}-{number % 10000:04d}",
            receiving_agency=WARD, competent_agency=CITY if level == "city" else WARD, procedure_code=code,
            procedure_name=name, procedure_version=1, field=field, level=level,
            channel="online" if online else ("post" if rng.random() < 0.1 else "in_person"),
            online_level=online_level, time_limit_value=float(limit),
            time_limit_unit="working_days" if limit else "same_day", supplement_policy="pause", has_receipt=True,
            has_case=True, received_at=received, receipt_appointment_at=appointment,
            case_appointment_at=appointment, documents_total=3, documents_digitised=3,
            e_certified_copies_requested=2 if code == "2.000815" else 0, case_state=4)
        start = received
        if rng.random() < 0.1:  # a supplement wait pauses the clock
            since = received + (appointment - received) * rng.uniform(0.1, 0.5)
            until = since + timedelta(hours=rng.uniform(2, 120))
            s.supplement_requested = 1
            if until < horizon:
                s.supplement_waits = ((since, until),)
                s.appointment_history = ((appointment, until),)
                s.case_appointment_at = appointment = appointment + (until - since)
                start = until
            else:
                s.waiting_supplement_since = since
        roll = rng.random()
        if s.waiting_supplement_since is None:
            if roll < 0.08:
                resolved = appointment + timedelta(minutes=rng.randint(1, 7 * 24 * 60))
                if rng.random() < 0.5:
                    s.extended_appointment_at = appointment + timedelta(days=5)
            else:
                resolved = start + (appointment - start) * rng.uniform(0.05, 1.0)
            if resolved < horizon:
                s.case_resolved_at = resolved
                s.case_outcome = rng.choices(("approved", "rejected", "withdrawn", "stopped"), (88, 6, 3, 3))[0]
                s.electronic_result = rng.random() < 0.9
                s.case_state = 9
        out.append(s.derive())
    return out


async def fill(engine: Any, size: int) -> tuple[GenerationTables, float]:
    """A new generation holding `size` facts and their rollups, swapped in; returns it and the load time."""
    started = time.monotonic()
    baked = Baked("Asia/Ho_Chi_Minh", True)
    tables = await start_generation(engine, baked)
    deltas: Counter[Any] = Counter()
    chunk = 100_000
    for offset in range(0, size, chunk):
        rows = facts(min(chunk, size - offset), seed=offset)
        for state in rows:
            deltas.update(contributions(state, baked))
        async with engine.begin() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            await raw.copy_records_to_table(tables.facts.name, records=[s.to_record() for s in rows],
                                            columns=list(COLUMNS))
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: GenerationWriter(sync, tables).write([], deltas))  # the rollups of all facts
        await conn.run_sync(tables.create_indexes)
    await swap(engine, tables.generation, datetime.now(UTC), size)
    return tables, time.monotonic() - started


async def timed(reports: Reports, p: Period, runs: int, method: str = "auto") -> tuple[list[float], Any]:
    times, form = [], None
    await reports.form06({WARD}, p, method=method)  # warm the pool and the plan cache
    for _ in range(runs):
        started = time.perf_counter()
        form, _ = await reports.form06({WARD}, p, method=method)
        times.append((time.perf_counter() - started) * 1000)
    return times, form


async def one_size(pg: asyncpg.Connection, size: int, runs: int) -> dict[str, Any]:
    db = f"onestop_bench_report_{uuid.uuid4().hex[:8]}"
    await pg.execute(f'CREATE DATABASE "{db}"')
    engine = make_engine(_db_url(db))
    try:
        await upgrade(engine, MIGRATIONS)
        _, load_seconds = await fill(engine, size)
        settings = ReportingSettings(database_url=_db_url(db))
        reports = Reports(engine, settings.rules(), load_calendar())
        year = Period.of_days(date(YEAR, 1, 1), date(YEAR, 12, 31), VN, None)
        inside_a_day = Period(year.start, year.end, datetime(YEAR, 7, 15, 10, 30, tzinfo=VN))
        june = Period.of_days(date(YEAR, 6, 1), date(YEAR, 6, 30), VN, None)
        year_ms, fast = await timed(reports, year, runs)
        partial_ms, _ = await timed(reports, inside_a_day, runs)
        month_ms, _ = await timed(reports, june, runs)
        started = time.perf_counter()
        reference, how = await reports.form06({WARD}, year, method="reference")
        reference_ms = (time.perf_counter() - started) * 1000
        partial_fast, _ = await reports.form06({WARD}, inside_a_day, method="fast")
        partial_ref, _ = await reports.form06({WARD}, inside_a_day, method="reference")
        assert how == "reference"
    finally:
        await engine.dispose()
        await drop_database(pg, db)
    return {
        "facts": size, "load_seconds": round(load_seconds, 1), "runs": runs,
        "year_p50_ms": percentile(year_ms, 50), "year_p95_ms": percentile(year_ms, 95),
        "year_as_of_inside_a_day_p50_ms": percentile(partial_ms, 50),
        "year_as_of_inside_a_day_p95_ms": percentile(partial_ms, 95),
        "month_p50_ms": percentile(month_ms, 50), "month_p95_ms": percentile(month_ms, 95),
        "reference_year_ms": reference_ms,
        "fast_equals_reference": fast == reference and partial_fast == partial_ref,
        "total_received": fast.total.received_total, "total_pending": fast.total.pending_total,
    }


async def main(sizes: list[int], runs: int) -> int:
    pg = await asyncpg.connect(PG_ADMIN)
    results = []
    try:
        for size in sizes:
            print(f"filling {size:,} facts …", flush=True)
            results.append(await one_size(pg, size, runs))
            r = results[-1]
            print(table(f"Form 06, one agency-year, {size:,} facts (loaded in {r['load_seconds']} s)", [
                ("year: p50 / p95", f"{r['year_p50_ms']:.1f} / {r['year_p95_ms']:.1f} ms  (target ≤ 200 ms at 1M)"),
                ("year as of 15/07 10:30: p50 / p95",
                 f"{r['year_as_of_inside_a_day_p50_ms']:.1f} / {r['year_as_of_inside_a_day_p95_ms']:.1f} ms"),
                ("one month: p50 / p95", f"{r['month_p50_ms']:.1f} / {r['month_p95_ms']:.1f} ms"),
                ("domain over loaded rows (reference), once", f"{r['reference_year_ms']:,.0f} ms"),
                ("fast path == reference", str(r["fast_equals_reference"])),
                ("received / pending at year end", f"{r['total_received']:,} / {r['total_pending']:,}"),
            ]), flush=True)
    finally:
        await pg.close()
    path = write("report_query", {"path": "rollups + SQL (Reports.form06, PostgreSQL)", "target_ms_at_1m": 200,
                                  "sizes": results})
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.sizes, args.runs)))
