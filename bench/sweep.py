"""Overdue sweep benchmark: N open cases in a scratch PostgreSQL database, the processing service's own
sweep (`DeadlineSweep.sweep_once`, wired by `services.processing.app.assemble`: indexed candidate query,
domain `sweep`, flags + events + outbox in one transaction per page). Three figures: a normal day (cases
spread over the next weeks, the ones due soon get warned), the same sweep again (nothing new to say), and
the worst case — every case overdue at once.

    .venv/bin/python bench/sweep.py --cases 100000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import drop_database, table, write
from libs.catalogue import load_catalogue
from libs.db import upgrade
from libs.settings import CommonSettings
from services.processing.app import Processing, assemble
from services.processing.domain import Case
from services.processing.settings import ProcessingSettings
from services.processing.store import CASES, new_row

PG = "postgresql://onestop:onestop@127.0.0.1:5432"
WARD = "000.00.12.H55"


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


async def fill(processing: Processing, n: int, now: datetime) -> None:
    """Open cases received over the last 20 days (appointments spread over the coming weeks)."""
    cal = processing.sweep.calendar
    sessions = processing.rt.sessions
    snapshot = load_catalogue().snapshot("1.004873", now.date(), WARD)  # 3 working days
    rng = random.Random(7)
    table_ = CASES
    batch: list[dict[str, Any]] = []
    for i in range(n):
        received = now - timedelta(days=rng.uniform(0, 20))
        due = cal.add_working_hours(received, rng.uniform(8, 240))  # some already past, most ahead
        case, _ = Case.open(dossier_id=str(uuid.uuid4()), code=f"{WARD}-BENCH-{i:07d}", procedure=snapshot,
                            receiving_agency=WARD, received_at=received, now=received, calendar=cal,
                            appointment_at=due)
        row = new_row(case, received, 1)
        batch.append({c.name: getattr(row, c.name) for c in table_.columns})
        if len(batch) == 5000:
            async with sessions() as s, s.begin():
                await s.execute(table_.insert(), batch)
            batch.clear()
    if batch:
        async with sessions() as s, s.begin():
            await s.execute(table_.insert(), batch)


async def timed(processing: Processing) -> tuple[float, int]:
    t0 = time.perf_counter()
    events = await processing.sweep.sweep_once()
    return time.perf_counter() - t0, len(events)


async def main(n: int, mass: bool) -> None:
    name = f"onestop_bsweep_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        settings = ProcessingSettings(database_url=f"postgresql+asyncpg://onestop:onestop@127.0.0.1:5432/{name}",
                                      sweep_page_size=1000)
        now = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)  # a Monday morning in Hà Nội
        clock = FixedClock(now)
        processing = assemble(settings, common=CommonSettings(), clock=clock)
        rt = processing.rt
        await upgrade(rt.engine, rt.migrations)
        t0 = time.perf_counter()
        await fill(processing, n, now)
        filled = time.perf_counter() - t0
        normal, normal_events = await timed(processing)
        again, again_events = await timed(processing)
        worst, worst_events = float("nan"), 0
        if mass:
            clock.at = now + timedelta(days=90)
            worst, worst_events = await timed(processing)
        await rt.engine.dispose()
    finally:
        await drop_database(admin, name)
        await admin.close()
    rows = [
        ("open cases", f"{n} (filled in {filled:.1f} s)"),
        ("normal day: sweep s (events)", f"{normal:.3f} ({normal_events})"),
        ("same sweep again: s (events)", f"{again:.3f} ({again_events})"),
        ("all overdue at once: s (events)", f"{worst:.3f} ({worst_events})"),
    ]
    print(table("overdue sweep", rows))
    figures = {"cases": n, "normal_s": normal, "normal_events": normal_events, "again_s": again,
               "again_events": again_events, "all_overdue_s": worst, "all_overdue_events": worst_events}
    print(f"wrote {write('sweep', figures)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--no-mass", action="store_true", help="skip the everything-overdue-at-once sweep")
    args = parser.parse_args()
    asyncio.run(main(args.cases, not args.no_mass))
