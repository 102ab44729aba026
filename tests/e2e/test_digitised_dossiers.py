"""Issue 17 end to end, on real Kafka, PostgreSQL and S3Proxy: a dossier's papers travel with it from the ward to
the city department and back with the signed result; an online submission waits for the desk's check.

Runs on the shared stack and its shared clock (moved forward only)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from libs.contracts import topics
from tests.e2e.online import CITIZEN, accept, submit
from tests.e2e.test_reporting import totals  # Form 06's total line, all time
from tests.e2e.test_workflow import (
    CITY_HEAD,
    CITY_SPEC,
    LAND,
    OTHER_DESK,
    WARD,
    WARD_DESK,
    at_the_desk,
    case,
    in_state,
    ok,
)
from tests.support.kafka import find_records, headers_of
from tests.support.signing import signed_pdf
from tests.support.stack import Stack, eventually
from tests.unit.intake.certification.support import scanned_original

pytestmark = pytest.mark.infra

APPLICANT = {"full_name": "Phạm Thị Thu", "personal_id": "019190005678", "phone": "0913456789"}
PAPERS = ["Đơn đăng ký biến động đất đai", "Bản gốc Giấy chứng nhận đã cấp", "Giấy tờ chứng minh việc thay đổi"]


def keyed(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": str(uuid.uuid4())}


async def upload(client: httpx.AsyncClient, stack: Stack, code: str, item: int, data: bytes) -> dict[str, Any]:
    r = await client.post(f"{stack.url('intake')}/api/v1/dossiers/{code}/documents",
                          params={"item": item, "file_name": f"scan-{item}.pdf"}, content=data,
                          headers=keyed(WARD_DESK))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def download(client: httpx.AsyncClient, stack: Stack, url: str, headers: dict[str, str]) -> httpx.Response:
    return await client.get(f"{stack.url('intake')}{url}", headers=headers)


async def readable_by(client: httpx.AsyncClient, stack: Stack, code: str, headers: dict[str, str]) -> Any:
    """The dossier's documents as this officer reads them, or None while intake answers 404."""
    r = await client.get(f"{stack.url('intake')}/api/v1/dossiers/{code}/documents", headers=headers)
    return r.json() if r.status_code == 200 else None


async def test_papers_travel_to_the_city_and_the_signed_result_comes_back(stack: Stack) -> None:
    stack.sensitive |= {APPLICANT["personal_id"], APPLICANT["phone"], "+84913456789"}
    async with httpx.AsyncClient(timeout=20) as client:
        body = {"procedure_code": LAND, "channel": "in_person", "receiving_agency": WARD, "applicant": APPLICANT,
                "documents": [{"name": name, "digitised": True} for name in PAPERS]}
        r = await client.post(f"{stack.url('intake')}/api/v1/dossiers", json=body, headers=WARD_DESK)
        assert r.status_code == 201, r.text
        code, dossier_id = r.json()["code"], r.json()["id"]
        await eventually(lambda: case(client, stack, code), timeout=15)

        # The ward's desk scans the three papers; the city cannot read them before it acknowledges the dossier.
        scans = {item: scanned_original(pages=item) for item in (1, 2, 3)}
        stored = {item: await upload(client, stack, code, item, data) for item, data in scans.items()}
        await ok(client, stack, code, WARD_DESK, "transfer", note="đủ hồ sơ, chuyển Văn phòng Đăng ký đất đai")
        assert await readable_by(client, stack, code, CITY_HEAD) is None
        await ok(client, stack, code, CITY_HEAD, "acknowledge")
        listed = await eventually(lambda: readable_by(client, stack, code, CITY_HEAD), timeout=15)
        assert {d["id"] for d in listed} == {d["id"] for d in stored.values()}
        for item, doc in stored.items():
            got = await download(client, stack, doc["content_url"], CITY_SPEC)
            assert got.status_code == 200 and got.content == scans[item], item

        # A paper is missing: the city asks, the citizen brings it to the ward, where it is scanned.
        await ok(client, stack, code, CITY_HEAD, "assign", officer="city-spec", step_code="review")
        await ok(client, stack, code, CITY_HEAD, "complete-step")
        await ok(client, stack, code, CITY_SPEC, "request-supplement", items=[PAPERS[2]],
                 reason="Giấy tờ chứng minh việc thay đổi chưa có xác nhận")
        await eventually(lambda: _desk_state(client, stack, code, 5), timeout=15)
        new_scan = scanned_original(pages=4)
        added = await upload(client, stack, code, 3, new_scan)
        await at_the_desk(client, stack, code, "supplements", {"documents": [{"name": PAPERS[2], "digitised": True}]})
        supplement = (await find_records(
            stack.kafka, topics.INTAKE, lambda r: r.key == dossier_id.encode()
            and headers_of(r)["ce_type"] == "vn.onestop.dossier.supplement_submitted.v1", timeout=15))[0]
        assert added["id"] in supplement.value.decode() and added["sha256"] in supplement.value.decode()
        await eventually(lambda: in_state(client, stack, code, 4), timeout=15)
        got = await download(client, stack, added["content_url"], CITY_SPEC)
        assert got.status_code == 200 and got.content == new_scan

        # The department head signs the result; it is attached, then the case approved as an electronic result.
        await ok(client, stack, code, CITY_SPEC, "complete-step")
        await ok(client, stack, code, CITY_HEAD, "complete-step")
        result_pdf = await asyncio.to_thread(signed_pdf, stack.run_dir / "ca", "Văn phòng Đăng ký đất đai")
        r = await client.post(f"{stack.url('intake')}/api/v1/dossiers/{code}/result", content=result_pdf,
                              headers=keyed(CITY_HEAD))
        assert r.status_code == 201 and r.json()["kind"] == "result", r.text
        result = r.json()
        await eventually(lambda: _result_attached(client, stack, code), timeout=15)
        view = await ok(client, stack, code, CITY_HEAD, "approve", note="Đủ điều kiện", electronic=True)
        assert (view["state"], view["outcome"]) == (9, "approved")
        ready = (await find_records(
            stack.kafka, topics.PROCESSING, lambda r: r.key == dossier_id.encode()
            and headers_of(r)["ce_type"] == "vn.onestop.case.result_ready.v1", timeout=15))[0]
        assert result["id"] in ready.value.decode() and '"electronic":true' in ready.value.decode()

        # The result travels back; the ward downloads it as signed and hands it over.
        await ok(client, stack, code, CITY_SPEC, "return", note="chuyển kết quả về phường")
        await ok(client, stack, code, WARD_DESK, "acknowledge")
        got = await download(client, stack, result["content_url"], WARD_DESK)
        assert got.status_code == 200 and got.content == result_pdf
        await at_the_desk(client, stack, code, "handover", {"method": "in_person"})
        await eventually(lambda: in_state(client, stack, code, 10), timeout=15)

        # An officer of a third agency reads nothing of it, not even whether it exists.
        everything = [d["content_url"] for d in [*stored.values(), added, result]]
        assert (await client.get(f"{stack.url('intake')}/api/v1/dossiers/{code}/documents",
                                 headers=OTHER_DESK)).status_code == 404
        for url in everything:
            assert (await download(client, stack, url, OTHER_DESK)).status_code == 404, url


async def _desk_state(client: httpx.AsyncClient, stack: Stack, code: str, state: int) -> bool:
    r = await client.get(f"{stack.url('intake')}/api/v1/dossiers/{code}", headers=WARD_DESK)
    return r.status_code == 200 and r.json()["state_code"] == state


async def _result_attached(client: httpx.AsyncClient, stack: Stack, code: str) -> Any:
    view = await case(client, stack, code, CITY_HEAD)
    return view and view.get("result_document")


# --- online submission (issue 17 §2) --------------------------------------------------------------------------


async def waiting(client: httpx.AsyncClient, stack: Stack, desk: dict[str, str]) -> list[str]:
    r = await client.get(f"{stack.url('intake')}/api/v1/submissions", headers=desk)
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()]


async def test_an_online_submission_waits_for_the_desk_and_counts_online(stack: Stack) -> None:
    intake = stack.url("intake")
    async with httpx.AsyncClient(timeout=20) as client:
        before = await totals(client, stack)
        sent = await submit(client, stack)
        assert sent["id"] in await waiting(client, stack, WARD_DESK)
        assert sent["id"] not in await waiting(client, stack, OTHER_DESK)  # another ward's queue

        # The desk checks it two hours later: the receipt, and the appointment, run from the acceptance.
        accepted_at = datetime.fromisoformat(await stack.clock(advance_seconds=2 * 3600))
        r = await accept(client, stack, sent["id"], WARD_DESK)
        assert r.status_code == 201, r.text
        dossier = r.json()
        assert dossier["id"] == sent["id"] and dossier["channel"] == "online"
        received_at = datetime.fromisoformat(dossier["received_at"])
        assert accepted_at <= received_at < accepted_at + timedelta(minutes=1)  # the shared clock runs on
        assert received_at - datetime.fromisoformat(sent["submitted_at"]) >= timedelta(hours=2)
        assert datetime.fromisoformat(dossier["appointment_at"]) > received_at
        again = await accept(client, stack, sent["id"], WARD_DESK)
        assert again.status_code == 200 and again.json()["code"] == dossier["code"]
        received = (await find_records(
            stack.kafka, topics.INTAKE, lambda r: r.key == sent["id"].encode()
            and headers_of(r)["ce_type"] == "vn.onestop.dossier.received.v1", timeout=15))
        assert len(received) == 1 and '"submitted_at"' in received[0].value.decode()
        assert '"manifest":[{' in received[0].value.decode().replace(" ", "")

        status = await client.get(f"{intake}/api/v1/public/submissions/{sent['id']}", params={"last4": "8642"},
                                  headers=CITIZEN)
        assert status.json()["state"] == "accepted" and status.json()["code"] == dossier["code"], status.text

        async def counted_online() -> bool:
            after = await totals(client, stack)
            return after["3"] == before["3"] + 1 and after["4"] == before["4"] + 1

        await eventually(counted_online, timeout=15)

        # Refused: the citizen is told why, and the submission is refused once.
        other = await submit(client, stack)
        reason = {"reason": "Tờ khai chưa có chữ ký của người yêu cầu"}
        r = await client.post(f"{intake}/api/v1/submissions/{other['id']}/refusal", json=reason, headers=WARD_DESK)
        assert r.status_code == 201 and r.json()["state_code"] == 3, r.text
        refused = r.json()["code"]
        late = await accept(client, stack, other["id"], WARD_DESK)
        assert late.status_code == 409, late.text

        async def citizen_told() -> bool:
            r = await client.get(f"{stack.url('notifications')}/api/v1/notices", params={"dossier": refused},
                                 headers=WARD_DESK)
            return r.status_code == 200 and any(n["kind"] == "refused" for n in r.json())

        await eventually(citizen_told, timeout=20)
