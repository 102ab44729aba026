"""A seeded simulation of a ward desk — four months, ~3,000 dossiers with Tết and the 30/4 holidays, city
transfers, supplement waits, apologies, late results, withdrawals and stops — published to Kafka and
consumed by the reporting service in-process. Every Form 06 cell, counted both ways (rollups + SQL and
the domain over fact rows), must equal a count made straight from the simulation's lifecycles; a closed
period's report must not change when later events arrive; a rebuilt generation must equal the live one.
"""

from __future__ import annotations

import io
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from libs.calendar import load_calendar
from services.reporting.domain import Form06
from services.reporting.exports import COLUMNS, form06_xlsx
from services.reporting.rebuild import rebuild
from services.reporting.reports import Period, Reports
from services.reporting.store.generations import live_generation
from tests.integration.reporting.conftest import Harness, HarnessFactory
from tests.integration.reporting.simevents import all_events, on_working_days
from tests.integration.reporting.truth import cells_of, dump, truth_form06
from tests.unit.reporting.simulate import CITY_LAND, OTHER_WARD, VN, WARD, SimDossier, simulate

pytestmark = pytest.mark.infra
SPLIT = datetime(2024, 3, 1, tzinfo=VN).astimezone(UTC)  # events before this are published first
SCOPES = ({WARD}, {WARD, CITY_LAND}, {OTHER_WARD}, {CITY_LAND})


def month(year: int, number: int) -> tuple[date, date]:
    first = date(year, number, 1)
    return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def period(first: date, last: date, as_of: datetime | None = None) -> Period:
    return Period.of_days(first, last, VN, as_of)


@pytest.fixture(scope="module")
def sim() -> list[SimDossier]:
    dossiers = on_working_days(simulate(2024, months=4, per_day=(28, 48)), load_calendar())
    assert len(dossiers) > 2500  # "a few thousand dossiers over several months"
    return dossiers


async def forms(reports: Reports, agencies: set[str], p: Period) -> tuple[Form06, Form06]:
    fast, how = await reports.form06(agencies, p, method="fast")
    reference, _ = await reports.form06(agencies, p, method="reference")
    assert how == "fast"
    fast.check_identities()
    return fast, reference


async def test_form06_of_a_simulated_ward_matches_its_own_ground_truth(
        make_harness: HarnessFactory, sim: list[SimDossier]) -> None:
    started = time.monotonic()
    h: Harness = await make_harness("sim")
    reports = Reports(h.rt.engine, h.settings.rules(), load_calendar())
    events = all_events(sim)
    early = [t for t in events if t.at < SPLIT]
    await h.publish(early)
    await h.settle()

    # February is closed once March starts: its report, now and after every later event, is the truth.
    february = period(*month(2024, 2))
    frozen = {}
    for agencies in SCOPES:
        fast, reference = await forms(reports, agencies, february)
        assert cells_of(fast) == cells_of(reference) == truth_form06(sim, agencies, february.start, february.end)
        frozen[frozenset(agencies)] = fast

    await h.publish(events[len(early):])
    await h.settle()
    applied = time.monotonic()

    for agencies in SCOPES:
        fast, reference = await forms(reports, agencies, february)
        assert fast == frozen[frozenset(agencies)] and reference == fast, "a closed period changed"

    checks = 0
    for agencies in SCOPES:
        for number in (1, 2, 3, 4, 5):
            p = period(*month(2024, number))
            for as_of in (None, p.start + timedelta(days=9, hours=10, minutes=17), p.start + timedelta(days=20)):
                q = Period(p.start, p.end, as_of)
                fast, reference = await forms(reports, agencies, q)
                truth = truth_form06(sim, agencies, q.start, q.end, as_of)
                assert cells_of(fast) == cells_of(reference) == truth, (sorted(agencies), number, as_of)
                checks += 1
        quarter = period(date(2024, 1, 1), date(2024, 3, 31))
        fast, reference = await forms(reports, agencies, quarter)
        assert cells_of(fast) == cells_of(reference) == truth_form06(sim, agencies, quarter.start, quarter.end)
    assert checks == 60
    total = (await reports.form06({WARD, CITY_LAND}, period(date(2024, 1, 1), date(2024, 12, 31))))[0].total
    assert total.resolved_late > 0 and total.late_with_apology > 0 and total.pending_total > 0
    assert total.received_online > 0 and total.resolved_early > 0

    # The XLSX of a month opens and carries the 13 numbered columns under their Vietnamese headers.
    form, _ = await reports.form06({WARD}, february)
    sheet = load_workbook(io.BytesIO(form06_xlsx(form, "UBND phường Đức Xuân"))).active
    assert sheet is not None
    assert [sheet.cell(row=7, column=c).value for c in range(1, 14)] == [f"({n})" for n in range(1, 14)]
    headers = {sheet.cell(row=r, column=c).value for r in (4, 5, 6) for c in range(1, 14)}
    assert {name for *_, name in COLUMNS} | {"Số hồ sơ nhận giải quyết", "Trong đó"} <= headers
    last = sheet.max_row
    total_row = next(r for r in range(8, last + 1) if sheet.cell(row=r, column=2).value == "Tổng cộng")
    assert [sheet.cell(row=total_row, column=c).value for c in range(3, 14)] == list(form.total.columns())

    # A rebuild from offset 0 into a fresh generation equals the live model, row for row.
    async with h.rt.engine.connect() as conn:
        live = await conn.run_sync(live_generation)
    assert live is not None
    result = await rebuild(h.rt.engine, h.bootstrap, h.settings, topic_names=h.topics, do_swap=False)
    assert result.applied == h.published
    assert await dump(h.rt.engine, result.generation) == await dump(h.rt.engine, live)
    print(f"\n{len(sim)} dossiers, {h.published} events applied live in {applied - started:.1f} s; "
          f"rebuild {result.events_per_second:,.0f} events/s")
