"""The workflow end to end: ward ↔ city hand-overs, the control slip, deadlines, extensions and refusals.

Runs on the shared stack and its shared clock: the clock only ever moves forward here and is left where it
ends. Processing is restarted with a 1-second sweep (and once more, to show a restart raises nothing twice)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import pytest

from libs.auth import issue_token
from libs.calendar import load_calendar
from libs.contracts import topics
from libs.settings import CommonSettings
from tests.support.kafka import find_records, headers_of
from tests.support.stack import Stack, eventually

pytestmark = pytest.mark.infra

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = load_calendar()
WARD = "000.00.12.H55"  # Phường Đức Xuân: receives the land dossier and returns the result
OTHER_WARD = "000.00.13.H55"
LAND_OFFICE = "000.01.05.H55"  # Văn phòng Đăng ký đất đai: competent for 1.013833
LAND = "1.013833"  # đăng ký biến động (đổi tên…): 4 working days, received at a ward, resolved by the city
FAST_SWEEP = {"ONESTOP_PROCESSING_SWEEP_SECONDS": "1"}


def token(sub: str, roles: list[str], agency: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(sub, roles, agency, CommonSettings().jwt_secret)}"}


WARD_DESK = token("ward-desk", ["desk_officer"], WARD)
CITY_HEAD = token("city-head", ["department_head"], LAND_OFFICE)
CITY_SPEC = token("city-spec", ["specialist"], LAND_OFFICE)
OTHER_DESK = token("other-desk", ["desk_officer", "specialist", "department_head"], OTHER_WARD)
VIEWER = token("viewer", ["report_viewer"], WARD)


@pytest.fixture(scope="module")
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client, with processing on a 1 s sweep and the shared clock moved on to a working morning."""
    await restart_processing(stack)
    now = datetime.fromisoformat(await stack.clock(advance_seconds=0)).astimezone(TZ)
    day = now.date() + timedelta(days=1)
    while not CAL.is_working_day(day):
        day += timedelta(days=1)
    await stack.clock(set_to=datetime.combine(day, time(8, 0), TZ).isoformat())
    async with httpx.AsyncClient(timeout=10) as c:
        yield c


async def restart_processing(stack: Stack) -> None:
    stack.kill9("processing")
    stack.start("processing", FAST_SWEEP)
    await stack.wait_ready("processing")


async def receive(client: httpx.AsyncClient, stack: Stack) -> dict[str, Any]:
    """A land dossier received at the ward desk; waits until processing has opened its case."""
    body = {
        "procedure_code": LAND, "channel": "in_person", "receiving_agency": WARD,
        "applicant": {"full_name": "Trần Văn Bình", "personal_id": "019090001234", "phone": "0912345678"},
        "documents": [{"name": "Đơn đăng ký biến động đất đai", "digitised": True}],
    }
    r = await client.post(f"{stack.url('intake')}/api/v1/dossiers", json=body, headers=WARD_DESK)
    assert r.status_code == 201, r.text
    dossier = r.json()
    await eventually(lambda: case(client, stack, dossier["code"]), timeout=15)
    return dict(dossier)


async def get(client: httpx.AsyncClient, stack: Stack, code: str, headers: dict[str, str]) -> httpx.Response:
    return await client.get(f"{stack.url('processing')}/api/v1/cases/{code}", headers=headers)


async def case(client: httpx.AsyncClient, stack: Stack, code: str, headers: dict[str, str] = WARD_DESK) -> Any:
    r = await get(client, stack, code, headers)
    return r.json() if r.status_code == 200 else None


async def act(
    client: httpx.AsyncClient, stack: Stack, code: str, headers: dict[str, str], action: str, **params: Any
) -> httpx.Response:
    return await client.post(
        f"{stack.url('processing')}/api/v1/cases/{code}/actions", json={"action": action, **params}, headers=headers
    )


async def ok(client: httpx.AsyncClient, stack: Stack, code: str, headers: dict[str, str], action: str,
             **params: Any) -> dict[str, Any]:
    r = await act(client, stack, code, headers, action, **params)
    assert r.status_code == 200, (action, r.status_code, r.text)
    return dict(r.json())


async def at_the_desk(client: httpx.AsyncClient, stack: Stack, code: str, move: str, body: dict[str, Any]) -> None:
    """A counter move at intake (supplement, hand-over, withdrawal), which publishes it to processing.

    Retried while intake answers 409: it learns the case's state from processing's events, a moment later."""
    url = f"{stack.url('intake')}/api/v1/dossiers/{code}/{move}"

    async def attempt() -> bool:
        r = await client.post(url, json=body, headers=WARD_DESK)
        assert r.status_code in (200, 409), r.text
        return r.status_code == 200

    await eventually(attempt, timeout=15)


# The citizen's look-ups come from addresses of their own, one per state awaited (the test stack's intake
# trusts X-Forwarded-For from 127.0.0.1, as it would a proxy or the console on its host): polling until each
# state shows must not run into the per-address rate limit that other tests exercise.
def citizen_address(state: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.100.{20 + state}"}


ID_LAST4 = "1234"  # of the applicant's personal ID 019090001234


async def looked_up(client: httpx.AsyncClient, stack: Stack, code: str, state: int) -> Any:
    """The citizen's look-up once intake (which follows processing's events) shows `state`."""
    r = await client.get(f"{stack.url('intake')}/api/v1/public/lookup", params={"code": code, "id_last4": ID_LAST4},
                         headers=citizen_address(state))
    assert r.status_code == 200, r.text
    view = r.json()
    assert "Trần Văn Bình" not in r.text and "019090001234" not in r.text and "0912345678" not in r.text
    return view if view["state_code"] == state else None


async def in_state(client: httpx.AsyncClient, stack: Stack, code: str, state: int) -> Any:
    view = await case(client, stack, code)
    return view if view and view["state"] == state else None


async def test_ward_to_city_and_back_with_the_control_slip(client: httpx.AsyncClient, stack: Stack) -> None:
    dossier = await receive(client, stack)
    code, dossier_id = dossier["code"], UUID(dossier["id"])  # intake's endpoints publish the desk's moves
    seen: list[tuple[int, str | None]] = []

    looked: list[int] = []

    def saw(view: dict[str, Any]) -> dict[str, Any]:
        seen.append((view["state"], view["sub_state"]))
        return view

    async def citizen_sees(state: int) -> None:
        view = await eventually(lambda: looked_up(client, stack, code, state), timeout=15)
        assert view["appointment_at"] and view["procedure_name"]
        looked.append(state)

    view = saw(await case(client, stack, code))
    assert (view["state"], view["holder_agency"], view["competent_agency"]) == (2, WARD, LAND_OFFICE)
    await citizen_sees(2)
    assert view["current_step"] == "receive" and view["steps"][0]["status"] == "active"

    # The ward desk finishes the receipt and sends the dossier to the land office (liên thông).
    view = saw(await ok(client, stack, code, WARD_DESK, "transfer", note="đủ hồ sơ"))
    assert (view["state"], view["holder_agency"], view["handoffs"][-1]["pending"]) == (4, LAND_OFFICE, True)
    await citizen_sees(4)
    queue = await client.get(f"{stack.url('processing')}/api/v1/cases", params={"held": "true", "state": "4"},
                             headers=CITY_HEAD)
    assert code in [c["code"] for c in queue.json()]
    ward_queue = await client.get(f"{stack.url('processing')}/api/v1/cases", params={"held": "true"},
                                  headers=WARD_DESK)
    assert code not in [c["code"] for c in ward_queue.json()]

    view = saw(await ok(client, stack, code, CITY_HEAD, "acknowledge"))
    assert view["handoffs"][-1]["acknowledged_by"] == "city-head"
    view = saw(await ok(client, stack, code, CITY_HEAD, "assign", officer="city-spec", step_code="review"))
    view = saw(await ok(client, stack, code, CITY_HEAD, "complete-step", note="giao chuyên viên"))
    assert view["current_step"] == "review" and view["steps"][2]["assignee"] == "city-spec"

    # Papers missing: the land office asks, the ward desk collects them from the citizen.
    view = saw(await ok(client, stack, code, CITY_SPEC, "request-supplement",
                        items=["Bản sao CCCD của bên nhận"], reason="Thiếu giấy tờ tùy thân"))
    assert (view["state"], view["sub_state"]) == (5, "one_stop_supplement")
    await citizen_sees(5)
    await at_the_desk(client, stack, code, "supplements",
                      {"documents": [{"name": "Bản sao CCCD của bên nhận", "digitised": True}]})
    view = saw(await eventually(lambda: in_state(client, stack, code, 4), timeout=15))
    await citizen_sees(4)

    for headers in (CITY_SPEC, CITY_HEAD):  # review, head of division
        view = saw(await ok(client, stack, code, headers, "complete-step"))
    view = saw(await ok(client, stack, code, CITY_HEAD, "approve", note="Đủ điều kiện"))
    assert (view["state"], view["sub_state"], view["outcome"]) == (9, "result_available", "approved")
    await citizen_sees(9)
    view = saw(await ok(client, stack, code, CITY_SPEC, "return", note="chuyển kết quả về phường"))
    assert (view["holder_agency"], view["sub_state"]) == (WARD, "awaiting_confirmation")
    view = saw(await ok(client, stack, code, WARD_DESK, "acknowledge"))
    assert view["sub_state"] == "at_return_desk"

    await at_the_desk(client, stack, code, "handover", {"method": "in_person"})
    view = saw(await eventually(lambda: in_state(client, stack, code, 10), timeout=15))
    assert view["closed_at"] and view["steps"][-1]["status"] == "done"
    await citizen_sees(10)
    assert looked == [2, 4, 5, 4, 9, 10]

    # The citizen rates the service once, at the desk; a second rating is refused.
    rating_url = f"{stack.url('intake')}/api/v1/dossiers/{code}/rating"
    r = await client.post(rating_url, json={"rating": 5, "comment": "Nhanh, tận tình"}, headers=WARD_DESK)
    assert r.status_code == 201 and r.json()["rating"] == 5, r.text
    again = await client.post(rating_url, json={"rating": 1}, headers=WARD_DESK)
    assert again.status_code == 409
    assert (await looked_up(client, stack, code, 10))["rated"] is True

    def runs(states: list[int]) -> list[int]:
        return [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]]

    assert runs([s for s, _ in seen]) == runs([h["state"] for h in view["history"]]) == [2, 4, 5, 4, 9, 10]
    assert view["history"][-1]["type"] == "case.result_handed_over"

    slip = view["slip"]
    assert [(r["step_code"], r["giver"], r["giver_agency"], r["receiver_agency"]) for r in slip] == [
        ("receive", "ward-desk", WARD, LAND_OFFICE),
        ("assign", "city-head", LAND_OFFICE, LAND_OFFICE),
        ("review", "city-spec", LAND_OFFICE, LAND_OFFICE),
        ("head", "city-head", LAND_OFFICE, LAND_OFFICE),
        ("sign", "city-head", LAND_OFFICE, LAND_OFFICE),
        ("issue", "city-spec", LAND_OFFICE, WARD),
        ("return", "ward-desk", WARD, None),
    ]
    assert slip[2]["receiver"] == "department_head" and slip[-1]["receiver"] == "applicant"
    times = [datetime.fromisoformat(r["handed_over_at"]) for r in slip]
    assert times == sorted(times)
    assert all(r["result"] in ("early", "on_time") and r["result_label"] in ("Trước hạn", "Đúng hạn") for r in slip)
    assert all(r["step_deadline"] for r in slip)

    records = await find_records(stack.kafka, topics.PROCESSING, lambda r: r.key == str(dossier_id).encode(),
                                 timeout=15, at_least=len(view["history"]))
    assert [headers_of(r)["ce_type"] for r in records] == [f"vn.onestop.{h['type']}.v1" for h in view["history"]]


async def test_extension_only_early_and_only_once(client: httpx.AsyncClient, stack: Stack) -> None:
    late, early = await receive(client, stack), await receive(client, stack)
    for d in (late, early):
        await ok(client, stack, d["code"], WARD_DESK, "transfer")
        await ok(client, stack, d["code"], CITY_HEAD, "acknowledge")

    # In time: accepted once (Form 04), a second apology is refused.
    view = await case(client, stack, early["code"])
    new_due = datetime.fromisoformat(view["appointment_at"]) + timedelta(days=7)
    extended = await ok(client, stack, early["code"], CITY_HEAD, "extend-deadline", reason="Chờ ý kiến cơ quan thuế",
                        new_due=new_due.isoformat())
    assert extended["extended"] and datetime.fromisoformat(extended["appointment_at"]) == new_due
    r = await act(client, stack, early["code"], CITY_HEAD, "extend-deadline", reason="Lần nữa",
                  new_due=(new_due + timedelta(days=3)).isoformat())
    assert r.status_code == 422 and "already extended once" in r.json()["detail"], r.text
    assert (await case(client, stack, early["code"]))["version"] == extended["version"]

    # Asked later than 1 working day before the appointment: refused, and nothing changes.
    view = await case(client, stack, late["code"])
    due = datetime.fromisoformat(view["appointment_at"])
    latest = CAL.subtract_working_hours(due, 8)
    await stack.clock(set_to=(latest + timedelta(minutes=30)).isoformat())
    r = await act(client, stack, late["code"], CITY_HEAD, "extend-deadline", reason="Chờ xác minh thực địa",
                  new_due=(due + timedelta(days=3)).isoformat())
    assert r.status_code == 422 and "at least 1 working day before" in r.json()["detail"], r.text
    after = await case(client, stack, late["code"])  # (the sweep may have said "due soon" meanwhile)
    assert (after["appointment_at"], after["extended"]) == (view["appointment_at"], False)
    assert "case.deadline_extended" not in [h["type"] for h in after["history"]]


async def test_each_refusal_kind_and_nothing_half_written(client: httpx.AsyncClient, stack: Stack) -> None:
    dossier = await receive(client, stack)
    code = dossier["code"]
    base = f"{stack.url('processing')}/api/v1/cases"
    before = await case(client, stack, code)

    # 401: no token, or a bad one.
    assert (await client.get(base)).status_code == 401
    assert (await client.get(f"{base}/{code}")).status_code == 401
    assert (await act(client, stack, code, {}, "transfer")).status_code == 401
    assert (await act(client, stack, code, {"Authorization": "Bearer nonsense"}, "transfer")).status_code == 401

    # 403: a role that does no case work; an agency that does not hold the case; a step the role may not do.
    assert (await client.get(base, headers=VIEWER)).status_code == 403
    r = await act(client, stack, code, CITY_HEAD, "complete-step")
    assert r.status_code == 403 and "held by" in r.json()["detail"], r.text
    assert (await client.get(base, params={"agency": OTHER_WARD}, headers=WARD_DESK)).status_code == 403

    # 404 that does not leak: another ward gets the same answer as for a code that does not exist.
    foreign = await get(client, stack, code, OTHER_DESK)
    missing = await get(client, stack, f"{WARD}-000101-9999", OTHER_DESK)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["detail"].replace(code, "X") == missing.json()["detail"].replace(f"{WARD}-000101-9999", "X")
    r = await act(client, stack, code, OTHER_DESK, "stop", reason="thử")
    assert r.status_code == 404 and r.json() == foreign.json()
    listed = await client.get(base, params={"limit": 1000}, headers=OTHER_DESK)
    assert code not in [c["code"] for c in listed.json()]

    # 422: parameters the action needs are missing or malformed; unknown actions.
    assert (await act(client, stack, code, WARD_DESK, "request-supplement", reason="thiếu")).status_code == 422
    assert (await act(client, stack, code, WARD_DESK, "extend-deadline", reason="x",
                      new_due="2030-01-01T08:00:00")).status_code == 422  # no time zone
    assert (await act(client, stack, code, WARD_DESK, "fly-away")).status_code == 422

    # 422 with the domain's reason: the role and agency may act, the case as it is does not allow it (409 is
    # kept for another officer's change since the version the action was decided on: test_processing_conflicts).
    r = await act(client, stack, code, WARD_DESK, "payment-received")
    assert r.status_code == 422 and "cannot record a payment" in r.json()["detail"], r.text
    r = await act(client, stack, code, WARD_DESK, "approve")
    assert r.status_code == 422 and "cannot approve" in r.json()["detail"], r.text
    r = await act(client, stack, code, WARD_DESK, "acknowledge")
    assert r.status_code == 422 and "no hand-over" in r.json()["detail"], r.text

    after = await case(client, stack, code)
    assert after == before, "a refused action changed the case"

    stopped = await ok(client, stack, code, WARD_DESK, "stop", reason="Người nộp không bổ sung")
    assert stopped["state"] == 8 and stopped["version"] == before["version"] + 1
    r = await act(client, stack, code, WARD_DESK, "transfer")
    assert r.status_code == 422 and "stopped" in r.json()["detail"], r.text
    assert await case(client, stack, code) == stopped


async def test_withdrawal_at_the_desk_closes_the_case(client: httpx.AsyncClient, stack: Stack) -> None:
    dossier = await receive(client, stack)
    await ok(client, stack, dossier["code"], WARD_DESK, "transfer")
    await at_the_desk(client, stack, dossier["code"], "withdrawal", {"reason": "Người nộp xin rút"})
    view = await eventually(lambda: in_state(client, stack, dossier["code"], 7), timeout=15)
    assert view["closed_at"] and view["history"][-1]["type"] == "case.withdrawn"
    r = await act(client, stack, dossier["code"], CITY_HEAD, "acknowledge")
    assert r.status_code == 422 and "withdrawn" in r.json()["detail"], r.text


async def overdue_records(stack: Stack, dossier_id: str, at_least: int = 1) -> list[Any]:
    def match(record: Any) -> bool:
        return record.key == dossier_id.encode() and headers_of(record)["ce_type"] == "vn.onestop.case.overdue.v1"

    return await find_records(stack.kafka, topics.PROCESSING, match, timeout=20, at_least=at_least)


async def test_past_the_deadline_exactly_one_overdue_event_per_dossier(client: httpx.AsyncClient, stack: Stack) -> None:
    dossiers = [await receive(client, stack) for _ in range(3)]
    await ok(client, stack, dossiers[1]["code"], WARD_DESK, "transfer")  # one at the city, two at the ward
    views = [await case(client, stack, d["code"]) for d in dossiers]
    latest_due = max(datetime.fromisoformat(v["appointment_at"]) for v in views)
    now = datetime.fromisoformat(await stack.clock(advance_seconds=0))
    await stack.clock(advance_seconds=(latest_due - now).total_seconds() + 3600)

    for d in dossiers:
        assert len(await overdue_records(stack, d["id"])) == 1
    await asyncio.sleep(3)  # a few more sweeps of the running process
    await restart_processing(stack)  # and a fresh process over the same database
    await asyncio.sleep(3)
    for d in dossiers:
        records = await overdue_records(stack, d["id"])
        assert len(records) == 1, f"{d['code']}: {len(records)} overdue events"
        view = await case(client, stack, d["code"], CITY_HEAD if d is dossiers[1] else WARD_DESK)
        assert view["overdue"] and [h["type"] for h in view["history"]].count("case.overdue") == 1
    assert (await case(client, stack, dossiers[1]["code"], CITY_HEAD))["holder_agency"] == LAND_OFFICE
