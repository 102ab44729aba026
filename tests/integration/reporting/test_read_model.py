"""The read model over real Kafka and PostgreSQL: fact rows, odd event orders, redeliveries, the HTTP API
with officer tokens and agency scope, and the business gauges."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from prometheus_client import CollectorRegistry

from libs.auth import issue_token
from libs.calendar import load_calendar
from libs.contracts import intake as di
from libs.contracts import processing as cp
from libs.db import upgrade
from libs.settings import CommonSettings
from services.reporting import app as reporting_app
from services.reporting.domain.state import FactState
from services.reporting.metrics import BusinessMetrics
from services.reporting.reports import Reports
from services.reporting.settings import ReportingSettings
from services.reporting.store.generations import live_generation
from services.reporting.store.tables import generation_tables
from tests.conftest import NewDatabase
from tests.integration.reporting.conftest import Harness, HarnessFactory
from tests.integration.reporting.simevents import (
    Timed,
    all_events,
    dossier_uuid,
    events_of,
    on_working_days,
    publish,
)
from tests.integration.reporting.truth import dump, truth_certifications
from tests.unit.reporting.simulate import OTHER_WARD, WARD, SimDossier, simulate

pytestmark = pytest.mark.infra
SECRET = CommonSettings().jwt_secret


@pytest.fixture(scope="module")
def sim() -> list[SimDossier]:
    return on_working_days(simulate(11, months=2, per_day=(4, 9)), load_calendar())


@pytest.fixture(scope="module")
async def loaded(make_harness: HarnessFactory, sim: list[SimDossier]) -> Harness:
    harness = await make_harness("model")
    await harness.publish(all_events(sim))
    await harness.settle()
    return harness


async def _states(h: Harness) -> dict[uuid.UUID, FactState]:
    async with h.rt.engine.connect() as conn:
        generation = await conn.run_sync(live_generation)
        assert generation is not None
        rows = (await conn.execute(generation_tables(generation).facts.select())).mappings().all()
    return {row["dossier_id"]: FactState.from_row(row) for row in rows}


async def test_every_dossier_has_one_fact_row_as_the_simulation_knows_it(loaded: Harness,
                                                                        sim: list[SimDossier]) -> None:
    states = await _states(loaded)
    assert len(states) == len(sim)
    for d in sim:
        truth, state = d.fact_at(None), states[dossier_uuid(d.base.dossier_id)]
        assert truth is not None
        if truth.refused_at_desk:
            assert state.refused_at_desk and not state.reportable
            continue
        row = state.fact_row()
        same = ("code", "receiving_agency", "competent_agency", "procedure_code", "field", "level", "channel",
                "online_level", "received_at", "appointment_at", "earlier_appointments", "resolved_at", "outcome",
                "returned_at", "supplement_requested", "waiting_supplement_since", "supplement_waits",
                "e_certified_copies_requested", "online_payment", "rating")
        assert {k: getattr(row, k) for k in same} == {k: getattr(truth, k) for k in same}, d.base.code
        assert (row.extended_appointment_at is None) == (truth.extended_appointment_at is None)
        completed = sum(1 for _, end in d.waits if end is not None)  # each supplement hands in one paper
        assert row.documents_total == truth.documents_total + completed
        reused = int(truth.documents_total >= 3 and truth.documents_digitised >= 1)  # simevents.receipt_scans
        assert (row.documents_scanned, row.documents_reused) == (truth.documents_digitised + completed, reused)
        if truth.outcome in ("approved", "rejected"):
            assert row.electronic_result == truth.electronic_result


async def test_events_for_unknown_dossiers_or_out_of_topic_order_are_kept(make_harness: HarnessFactory,
                                                                         sim: list[SimDossier]) -> None:
    h = await make_harness("order")
    d = next(d for d in sim if d.resolved and d.resolved[1] == "approved" and d.rating and d.waits)
    events = events_of(d)
    workflow = [t for t in events if isinstance(t.event, cp.CaseEvent)]
    desk = [t for t in events if not isinstance(t.event, cp.CaseEvent)]
    await h.publish(workflow)  # the workflow's events first: the receipt is not known yet
    await h.settle()
    state = (await _states(h))[dossier_uuid(d.base.dossier_id)]
    assert not state.reportable and state.has_case and state.resolved_at == d.resolved[0]
    await h.publish(desk)
    await h.settle()
    state = (await _states(h))[dossier_uuid(d.base.dossier_id)]
    assert state.reportable and state.rating == d.rating[1]
    assert state.fact_row().earlier_appointments == d.fact_at(None).earlier_appointments  # type: ignore[union-attr]

    stranger = uuid.uuid4()
    await h.publish([Timed(datetime.now(UTC), di.DossierRated(dossier_id=stranger, code="X-1", rating=4))])
    await h.settle()
    assert (await _states(h))[stranger].rating == 4  # stored what it could, crashed nothing


async def test_redelivered_events_change_nothing(make_harness: HarnessFactory, sim: list[SimDossier]) -> None:
    h = await make_harness("dup")
    events = all_events(sim[:40])
    await h.publish(events)
    await h.settle()
    async with h.rt.engine.connect() as conn:
        generation = await conn.run_sync(live_generation)
    assert generation is not None
    before = await dump(h.rt.engine, generation)
    duplicates = _duplicates(h)
    await publish(h.bootstrap, events[:30], h.topic_of)  # what a relay re-sends after a crash: same ce_id
    deadline = asyncio.get_running_loop().time() + 30
    while _duplicates(h) < duplicates + 30:
        assert asyncio.get_running_loop().time() < deadline, "the redelivered records were not consumed"
        await asyncio.sleep(0.2)
    assert await dump(h.rt.engine, generation) == before


def _duplicates(h: Harness) -> float:
    value = h.rt.registry.get_sample_value("onestop_events_skipped_total",
                                           {"service": "reporting", "reason": "duplicate"})
    return value or 0.0


# ---- HTTP API ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
async def api(loaded: Harness) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    app = reporting_app.create_app(ReportingSettings(database_url=loaded.url),
                                   CommonSettings(kafka_bootstrap=loaded.bootstrap))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting") as client:
        yield client, app
    await app.state.runtime.engine.dispose()


def _auth(agency: str = WARD, roles: tuple[str, ...] = ("report_viewer",)) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token('viewer', list(roles), agency, SECRET)}"}


FEB = {"from": "2024-02-01", "to": "2024-02-29"}


async def test_form06_needs_a_report_viewer_of_the_agency_or_above(api: tuple[httpx.AsyncClient, Any]) -> None:
    client, _ = api
    url = "/api/v1/reports/form-06"
    assert (await client.get(url, params=FEB)).status_code == 401
    assert (await client.get(url, params=FEB, headers=_auth(roles=("desk_officer",)))).status_code == 403
    assert (await client.get(url, params={**FEB, "agency": OTHER_WARD}, headers=_auth())).status_code == 404
    city = _auth("000.00.00.H55")
    assert (await client.get(url, params={**FEB, "agency": OTHER_WARD}, headers=city)).status_code == 200
    assert (await client.get(url, params=FEB, headers=_auth(roles=("admin",)))).status_code == 200
    assert (await client.get(url, params={"from": "2024-02-10", "to": "2024-02-01"},
                             headers=_auth())).status_code == 422


async def test_form06_json_csv_xlsx_agree(api: tuple[httpx.AsyncClient, Any], loaded: Harness,
                                          sim: list[SimDossier]) -> None:
    client, _ = api
    url = "/api/v1/reports/form-06"
    body = (await client.get(url, params=FEB, headers=_auth())).json()
    assert body["counted_by"] == "fast" and body["agency"] == WARD
    total = body["total"]["columns"]
    assert body["received"]["received_new"] == total["4"] + total["5"] > 0
    reference = (await client.get(url, params={**FEB, "method": "reference"}, headers=_auth())).json()
    assert reference["counted_by"] == "reference" and reference["lines"] == body["lines"]

    data = (await client.get(url, params={**FEB, "format": "csv"}, headers=_auth())).content
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "STT" and rows[-1][1] == "Tổng cộng"
    assert [int(v) for v in rows[-1][2:13]] == [total[str(n)] for n in range(3, 14)]

    r = await client.get(url, params={**FEB, "format": "xlsx"}, headers=_auth())
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    assert sheet["A2"].value == "Ủy ban nhân dân phường Đức Xuân"
    assert [sheet.cell(row=7, column=c).value for c in range(1, 14)] == [f"({n})" for n in range(1, 14)]


async def test_indicators_review_and_overdue(api: tuple[httpx.AsyncClient, Any]) -> None:
    client, _ = api
    ind = (await client.get("/api/v1/indicators", params=FEB, headers=_auth())).json()
    assert ind["received"] > 0 and 0 <= ind["rates"]["on_time"]["percent"] <= 100
    assert ind["time_basis"] == "working hours" and ind["scores"]
    review = (await client.get("/api/v1/procedures/review", params=FEB, headers=_auth())).json()
    procedures = review["procedures"]
    assert procedures and procedures[0]["received"] >= procedures[-1]["received"]
    assert any(p["limit_hours"] for p in procedures)
    overdue = (await client.get("/api/v1/overdue", headers=_auth())).json()
    assert overdue["count"] == 0  # the simulated dossiers never finished all wait for a supplement
    assert (await client.get("/api/v1/overdue", params={"agency": OTHER_WARD}, headers=_auth())).status_code == 404


async def test_certifications_per_agency_and_medium_match_the_simulation(api: tuple[httpx.AsyncClient, Any],
                                                                          sim: list[SimDossier]) -> None:
    client, _ = api
    url = "/api/v1/reports/certifications"
    assert (await client.get(url, params=FEB)).status_code == 401
    assert (await client.get(url, params=FEB, headers=_auth(roles=("desk_officer",)))).status_code == 403
    assert (await client.get(url, params={**FEB, "agency": OTHER_WARD}, headers=_auth())).status_code == 404
    body = (await client.get(url, params=FEB, headers=_auth())).json()
    truth = truth_certifications(sim, {WARD}, date(2024, 2, 1), date(2024, 2, 29))[WARD]
    (ward,) = body["agencies"]
    assert ward["agency"] == WARD and body["total"] == {k: v for k, v in ward.items() if k not in (
        "agency", "agency_name")}
    assert {m: (ward[m]["acts"], ward[m]["copies"]) for m in ("paper", "electronic")} == truth
    e_acts, all_acts = truth["electronic"][0], truth["electronic"][0] + truth["paper"][0]
    assert ward["e_certification_rate"] == {"numerator": e_acts, "denominator": all_acts,
                                            "percent": round(100 * e_acts / all_acts, 1)}
    city = (await client.get(url, params={**FEB, "agency": "000.00.00.H55"}, headers=_auth("000.00.00.H55"))).json()
    below = truth_certifications(sim, {WARD, OTHER_WARD}, date(2024, 2, 1), date(2024, 2, 29))
    assert {a["agency"] for a in city["agencies"]} == set(below) and WARD in below  # each agency on its own
    ind = (await client.get("/api/v1/indicators", params=FEB, headers=_auth())).json()
    assert ind["rates"]["e_certified_copies"] == ward["e_certification_rate"]
    scores = {s["code"]: s for s in ind["scores"]}
    assert scores["ELECTRONIC_CERTIFIED_COPY"]["points"] == 2 and not scores["ELECTRONIC_CERTIFIED_COPY"]["estimate"]
    assert 0 < ind["rates"]["dossiers_digitised"]["percent"] < 100 and 0 < ind["rates"]["reuse"]["percent"] < 100


async def test_overdue_lists_pending_dossiers_past_their_appointment(make_harness: HarnessFactory,
                                                                    sim: list[SimDossier]) -> None:
    h = await make_harness("late")
    d = next(d for d in sim if not d.base.refused_at_desk and not d.waits and d.base.competent_agency == WARD)
    received = [t for t in events_of(d) if isinstance(t.event, di.DossierReceived | cp.CaseOpened)]
    await h.publish(received)  # nothing after the receipt: pending long past its appointment
    await h.settle()
    app = reporting_app.create_app(ReportingSettings(database_url=h.url), CommonSettings(kafka_bootstrap=h.bootstrap))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client:
            overdue = (await client.get("/api/v1/overdue", headers=_auth())).json()
    finally:
        await app.state.runtime.engine.dispose()
    assert [x["code"] for x in overdue["dossiers"]] == [d.base.code]
    assert overdue["dossiers"][0]["overdue_working_hours"] > 8 * 200  # two years of working days, and more


async def test_business_gauges_follow_the_read_model(loaded: Harness, sim: list[SimDossier]) -> None:
    settings = loaded.settings
    calendar = load_calendar()
    registry = CollectorRegistry()
    metrics = BusinessMetrics(registry, settings.rules(), calendar, 8.0)
    now = datetime(2024, 4, 1, 2, tzinfo=UTC)  # after every simulated event, as "now" always is
    await metrics.refresh(loaded.rt.engine, now)
    overdue = await Reports(loaded.rt.engine, settings.rules(), calendar).overdue({WARD}, now)
    expected = sum(1 for state, _ in overdue if state.competent_agency == WARD)
    assert registry.get_sample_value("onestop_cases_overdue", {"agency": WARD}) == expected
    pending = [d for d in sim if not d.base.refused_at_desk and d.base.competent_agency == WARD
               and d.base.received_at <= now and not (d.resolved and d.resolved[0] <= now)]
    still_open = sum(value for labels, value in _samples(registry, "onestop_cases_open")
                     if labels["agency"] == WARD)
    assert still_open == len(pending) > 0
    ratio = registry.get_sample_value("onestop_on_time_ratio", {"agency": WARD})
    assert ratio is not None and 0 <= ratio <= 1
    assert registry.get_sample_value("onestop_cases_due_soon", {"agency": WARD}) is not None
    march = BusinessMetrics(registry := CollectorRegistry(), settings.rules(), calendar, 8.0)
    await march.refresh(loaded.rt.engine, datetime(2024, 3, 1, 2, tzinfo=UTC))  # the 30 days up to 1 March
    acts = truth_certifications(sim, {WARD}, date(2024, 2, 1), date(2024, 3, 1))[WARD]
    assert registry.get_sample_value("onestop_e_certification_ratio", {"agency": WARD}) == pytest.approx(
        acts["electronic"][0] / (acts["electronic"][0] + acts["paper"][0]))

    # The live consumer counted every ending once, after its commit, by competent agency and timeliness.
    endings = _samples(loaded.rt.registry, "onestop_dossiers_resolved_total")
    counted = {(labels["agency"], labels["timeliness"]): value for labels, value in endings}
    assert sum(counted.values()) == sum(1 for d in sim if d.resolved and not d.base.refused_at_desk)
    assert {timeliness for _, timeliness in counted} <= {"early", "on_time", "late"}


def _samples(registry: CollectorRegistry, name: str) -> list[tuple[dict[str, str], float]]:
    return [(s.labels, s.value) for metric in registry.collect() for s in metric.samples if s.name == name]


async def test_a_report_on_a_brand_new_database_is_empty_not_an_error(new_database: NewDatabase) -> None:
    app = reporting_app.create_app(ReportingSettings(database_url=await new_database("fresh")))
    rt = app.state.runtime
    await upgrade(rt.engine, rt.migrations)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client:
            r = await client.get("/api/v1/reports/form-06", params=FEB, headers=_auth())
    finally:
        await rt.engine.dispose()
    assert r.status_code == 200 and r.json()["total"]["columns"]["3"] == 0 and r.json()["lines"][-1]["stt"] == ""
