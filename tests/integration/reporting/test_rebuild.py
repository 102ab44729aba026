"""Rebuild from offset 0 while the live consumer keeps applying events and reports keep being read: the
new generation is swapped in, nothing is lost or doubled, the old tables go; also on SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date

import pytest
from sqlalchemy import inspect, select

from libs.calendar import load_calendar
from services.reporting.rebuild import RebuildResult, rebuild
from services.reporting.reports import Period, Reports
from services.reporting.store.generations import live_generation
from services.reporting.store.tables import GENERATIONS
from tests.integration.reporting.conftest import Harness, HarnessFactory
from tests.integration.reporting.simevents import Timed, all_events, on_working_days
from tests.integration.reporting.truth import cells_of, dump, truth_form06
from tests.unit.reporting.simulate import CITY_LAND, VN, WARD, SimDossier, simulate

pytestmark = pytest.mark.infra
AGENCIES = {WARD, CITY_LAND}


@pytest.fixture(scope="module")
def sim() -> list[SimDossier]:
    return on_working_days(simulate(77, months=3, per_day=(10, 20)), load_calendar())


async def _live(h: Harness) -> int:
    async with h.rt.engine.connect() as conn:
        generation = await conn.run_sync(live_generation)
    assert generation is not None
    return generation


async def _feed(h: Harness, events: Sequence[Timed], chunk: int = 200) -> None:
    for start in range(0, len(events), chunk):
        await h.publish(events[start:start + chunk])
        await asyncio.sleep(0.05)


async def _read_until(stop: asyncio.Event, reports: Reports, p: Period, errors: list[BaseException]) -> int:
    reads = 0
    while not stop.is_set():
        try:
            form, _ = await reports.form06(AGENCIES, p)
            form.check_identities()
            reads += 1
        except Exception as exc:  # any failure is a downtime
            errors.append(exc)
        await asyncio.sleep(0.01)
    return reads


async def _swap_under_load(h: Harness, sim: list[SimDossier]) -> RebuildResult:
    events = all_events(sim)
    half = len(events) // 2
    await h.publish(events[:half])
    await h.settle()
    old = await _live(h)
    reports = Reports(h.rt.engine, h.settings.rules(), load_calendar())
    p = Period.of_days(date(2024, 1, 1), date(2024, 3, 31), VN, None)
    stop, errors = asyncio.Event(), []
    reader = asyncio.create_task(_read_until(stop, reports, p, errors))
    result, _ = await asyncio.gather(
        rebuild(h.rt.engine, h.bootstrap, h.settings, topic_names=h.topics, grace=0.3, batch=500),
        _feed(h, events[half:]))
    await h.settle()
    stop.set()
    assert await reader > 0 and not errors, errors[:3]
    assert result.replaced == old and await _live(h) == result.generation
    async with h.rt.engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        statuses = dict((await conn.execute(select(GENERATIONS.c.generation, GENERATIONS.c.status))).all())
    assert f"rm{old}_facts" not in names and statuses == {old: "dropped", result.generation: "live"}

    # What the live consumer added after the swap went into the new generation: it equals a fresh rebuild.
    check = await rebuild(h.rt.engine, h.bootstrap, h.settings, topic_names=h.topics, do_swap=False)
    assert check.applied == h.published
    assert await dump(h.rt.engine, check.generation) == await dump(h.rt.engine, result.generation)
    form, _ = await reports.form06(AGENCIES, p)
    assert cells_of(form) == truth_form06(sim, AGENCIES, p.start, p.end)
    return result


async def test_rebuild_swaps_in_while_events_flow_and_reports_are_read(make_harness: HarnessFactory,
                                                                       sim: list[SimDossier]) -> None:
    result = await _swap_under_load(await make_harness("swap"), sim)
    assert result.caught_up > 0, "no event arrived during the rebuild: the catch-up was not exercised"


async def test_the_embedded_sqlite_default_works_too(make_harness: HarnessFactory, sim: list[SimDossier],
                                                     tmp_path: object) -> None:
    h = await make_harness("lite", database_url=f"sqlite+aiosqlite:///{tmp_path}/reporting.db")
    await _swap_under_load(h, sim[: len(sim) // 3])
