"""The desk end to end: officer tokens and agency scoping, refusal, Form 02 at the counter, withdrawal,
following processing's events to the hand-over, one rating, the citizen look-up, slips in HTML and PDF.

Processing is only relied on for `case.opened`; later workflow events are published here as processing
would (CloudEvents records on onestop.processing.v1, keyed by the dossier id)."""

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pypdf
import pytest

from libs.auth import issue_token
from libs.contracts import Envelope, encode, topics
from libs.contracts.processing import (
    CaseEvent,
    DeadlineExtended,
    ResultReady,
    StepCompleted,
    SupplementReceived,
    SupplementRequested,
)
from libs.settings import CommonSettings
from tests.support.kafka import find_records, publish_raw
from tests.support.stack import Stack, eventually

pytestmark = pytest.mark.infra
WARD = "000.00.12.H55"  # the walking skeleton's ward
DESK = "000.00.21.H55"  # this file's desk (Phường Phan Đình Phùng), so the skeleton's counts for WARD stay its own
APPLICANT = {"full_name": "Phạm Thị Hồng", "personal_id": "019190004321", "phone": "0987654321",
             "email": "hong.pham@example.vn"}


@pytest.fixture(autouse=True)
def _no_personal_data_in_logs(stack: Stack) -> None:
    stack.sensitive |= {APPLICANT["personal_id"], APPLICANT["phone"], "+84987654321", APPLICANT["email"]}


def desk_headers(agency: str = WARD, roles: tuple[str, ...] = ("desk_officer",), sub: str = "desk-officer",
                 key: str | None = None) -> dict[str, str]:
    """A desk officer's bearer token (HS256 with the suite's ONESTOP_JWT_SECRET), optionally an Idempotency-Key."""
    token = issue_token(sub, list(roles), agency, CommonSettings().jwt_secret, name="Trần Thị Hoa")
    return {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}


def dossier(channel: str = "in_person", **extra: Any) -> dict[str, Any]:
    return {
        "procedure_code": "1.001193", "channel": channel, "applicant": APPLICANT,
        "documents": [{"name": "Tờ khai đăng ký khai sinh", "digitised": True},
                      {"name": "Giấy chứng sinh", "e_certified_copy": True}],
        **extra,
    }


def seq(code: str) -> int:
    return int(code.rsplit("-", 1)[1])


class Desk:
    """The intake API as the tests use it."""

    def __init__(self, client: httpx.AsyncClient, stack: Stack) -> None:
        self.client, self.stack = client, stack
        self.api = f"{stack.url('intake')}/api/v1"

    async def receive(self, body: dict[str, Any] | None = None, agency: str = DESK) -> dict[str, Any]:
        r = await self.client.post(f"{self.api}/dossiers", json=body or dossier(), headers=desk_headers(agency))
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def post(self, path: str, body: dict[str, Any], agency: str = DESK) -> httpx.Response:
        return await self.client.post(f"{self.api}{path}", json=body, headers=desk_headers(agency))

    async def get(self, path: str, agency: str = DESK, **params: str) -> httpx.Response:
        return await self.client.get(f"{self.api}{path}", params=params, headers=desk_headers(agency))

    async def lookup(self, code: str, last4: str) -> httpx.Response:
        return await self.client.get(f"{self.api}/public/lookup", params={"code": code, "id_last4": last4})

    async def history(self, code: str) -> list[str]:
        r = await self.get(f"/dossiers/{code}/history")
        r.raise_for_status()
        return [h["event_type"] for h in r.json()]

    async def state_is(self, code: str, state: str, **fields: Any) -> dict[str, Any] | None:
        body = (await self.get(f"/dossiers/{code}")).json()
        ok = body["state"] == state and all(body[k] == v for k, v in fields.items())
        return body if ok else None

    async def now(self) -> datetime:
        r = await self.client.get(f"{self.stack.url('intake')}/admin/clock")
        return datetime.fromisoformat(r.json()["now"])


async def publish(stack: Stack, event: CaseEvent) -> None:
    """A processing event on the wire, as processing's outbox relay would publish it."""
    headers = Envelope.for_event(event, event.at).headers()
    await publish_raw(stack.kafka, topics.PROCESSING, event.key, encode(event), headers)


def case(d: dict[str, Any], at: datetime, **fields: Any) -> dict[str, Any]:
    return {"dossier_id": d["id"], "code": d["code"], "agency": DESK, "at": at, **fields}


async def test_desk_actions_need_a_desk_officer_of_the_dossiers_agency(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        desk = Desk(client, stack)
        url = f"{desk.api}/dossiers"
        assert (await client.post(url, json=dossier())).status_code == 401
        r = await client.post(url, json=dossier(), headers={"Authorization": "Bearer not-a-token"})
        assert r.status_code == 401
        r = await client.post(url, json=dossier(), headers=desk_headers(DESK, roles=("report_viewer",)))
        assert r.status_code == 403, r.text
        r = await client.post(url, json=dossier(receiving_agency=WARD), headers=desk_headers(DESK))
        assert r.status_code == 403, "a desk officer receives for their own agency only"

        mine = await desk.receive()
        assert mine["receiving_agency"] == DESK and mine["state"] == "received" and mine["state_code"] == 2
        assert mine["received_by"] == "desk-officer"
        code = mine["code"]
        assert (await desk.get(f"/dossiers/{code}")).status_code == 200

        missing = f"{DESK}-{code.split('-')[1]}-9999"
        for method, path, body in [
            ("GET", "/dossiers/{}", None), ("GET", "/dossiers/{}/slips/receipt", None),
            ("POST", "/dossiers/{}/withdrawal", {}), ("POST", "/dossiers/{}/rating", {"rating": 5}),
        ]:
            answers = []
            for target in (code, missing):
                r = await client.request(method, desk.api + path.format(target), json=body,
                                         headers=desk_headers(WARD))
                answers.append((r.status_code, r.json()["detail"].replace(target, "<code>")))
            assert answers[0] == answers[1] == (404, "no dossier with code <code>"), (path, answers)
        assert (await desk.get(f"/dossiers/{code}")).json()["state"] == "received", "the stranger changed nothing"


async def test_refusal_gets_the_next_code_and_form_03(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        desk = Desk(client, stack)
        before = await desk.receive()
        r = await desk.post("/dossiers/refusals", dossier(reason="Thủ tục không thuộc thẩm quyền của phường"))
        assert r.status_code == 201, r.text
        refused = r.json()
        assert refused["state"] == "refused" and refused["state_code"] == 3 and refused["appointment_at"] is None
        assert seq(refused["code"]) == seq(before["code"]) + 1, "a refused dossier still gets its one code"

        r = await desk.get(f"/dossiers/{refused['code']}/slips/refusal")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert refused["code"] in r.text and "Phiếu từ chối tiếp nhận giải quyết hồ sơ" in r.text
        assert "Thủ tục không thuộc thẩm quyền của phường" in r.text
        assert (await desk.get(f"/dossiers/{refused['code']}/slips/receipt")).status_code == 404

        r = await desk.post(f"/dossiers/{refused['code']}/withdrawal", {})
        assert r.status_code == 409 and "cannot withdraw" in r.json()["detail"]

    records = await find_records(stack.kafka, topics.INTAKE, lambda rec: rec.key == refused["id"].encode())
    assert [dict(rec.headers)["ce_type"] for rec in records] == [b"vn.onestop.dossier.refused.v1"]


async def test_idempotency_key_still_holds_with_officer_tokens(stack: Stack) -> None:
    key = str(uuid.uuid4())
    async with httpx.AsyncClient(timeout=10) as client:
        desk = Desk(client, stack)
        url = f"{desk.api}/dossiers"
        first = await client.post(url, json=dossier("post"), headers=desk_headers(DESK, key=key))
        again = await client.post(url, json=dossier("post"), headers=desk_headers(DESK, key=key))
        assert first.status_code == 201 and again.status_code == 200, again.text
        assert again.headers["Idempotent-Replayed"] == "true" and first.json() == again.json()
        r = await client.post(f"{url}/refusals", json=dossier("post", reason="Trùng hồ sơ"),
                              headers=desk_headers(DESK, key=key))
        assert r.status_code == 422 and "Idempotency-Key" in r.text
        nxt = await desk.receive()
        assert seq(nxt["code"]) == seq(first.json()["code"]) + 1


async def test_form_02_at_the_counter_enters_no_dossier(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        desk = Desk(client, stack)
        before = await desk.receive()
        r = await desk.post("/paper-requests", {
            "procedure_code": "1.001193", "applicant": {"full_name": "Phạm Thị Hồng"},
            "items": ["Giấy chứng sinh (bản chính)"], "reason": "Hồ sơ còn thiếu giấy chứng sinh",
        })
        assert r.status_code == 201, r.text
        slip = await client.get(stack.url("intake") + r.json()["slip_url"], headers=desk_headers(DESK))
        assert slip.status_code == 200
        assert "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ" in slip.text and "Giấy chứng sinh (bản chính)" in slip.text
        stranger = await client.get(stack.url("intake") + r.json()["slip_url"], headers=desk_headers(WARD))
        assert stranger.status_code == 404
        after = await desk.receive()
        assert seq(after["code"]) == seq(before["code"]) + 1, "Form 02 at the counter uses no dossier number"


async def test_lookup_shows_the_state_without_personal_data(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        desk = Desk(client, stack)
        d = await desk.receive()
        r = await desk.lookup(d["code"], APPLICANT["personal_id"][-4:])
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["code"] == d["code"] and body["state_label"] in {"Được tiếp nhận", "Đang xử lý"}
        assert body["appointment_at"] == d["appointment_at"] and "hẹn trả kết quả" in body["next_step"]
        for secret in ("Phạm Thị Hồng", "019190004321", "987654321", "hong.pham", "desk-officer", "Trần Thị Hoa"):
            assert secret not in r.text, secret
        wrong = await desk.lookup(d["code"], "0000")
        unknown = await desk.lookup(f"{DESK}-000101-0001", APPLICANT["personal_id"][-4:])
        assert wrong.status_code == unknown.status_code == 404 and wrong.json() == unknown.json()


async def test_the_desk_follows_processing_to_hand_over_and_one_rating(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=15) as client:
        desk = Desk(client, stack)
        d = await desk.receive()
        code = d["code"]
        await eventually(lambda: _has(desk, code, "vn.onestop.case.opened.v1"), timeout=15)
        now = await desk.now()
        later = now + timedelta(days=3)

        await publish(stack, StepCompleted(**case(d, now, actor="desk-officer", state=4, step_code="receive",
                      step_name="Tiếp nhận, kiểm tra, số hóa hồ sơ", handover=True, receiver="chuyen-vien-1",
                      receiver_agency=DESK, step_deadline=now + timedelta(hours=2), timeliness="on_time")))
        await publish(stack, SupplementRequested(**case(d, now + timedelta(hours=1), actor="chuyen-vien-1", state=5,
                      sub_state="citizen_supplement", items=["Bản sao giấy đăng ký kết hôn của cha mẹ"],
                      reason="Thiếu giấy tờ chứng minh quan hệ cha mẹ", policy="pause")))
        await eventually(lambda: desk.state_is(code, "supplement_requested"))
        r = await desk.get(f"/dossiers/{code}/slips/supplement")
        assert r.status_code == 200 and "Bản sao giấy đăng ký kết hôn của cha mẹ" in r.text

        supplement = {"documents": [{"name": "Bản sao giấy đăng ký kết hôn", "digitised": True}]}
        r = await desk.post(f"/dossiers/{code}/supplements", supplement)
        assert r.status_code == 200 and r.json()["sub_state"] == "citizen_submitted", r.text
        r = await desk.post(f"/dossiers/{code}/supplements", supplement)
        assert r.status_code == 409 and "already handed in" in r.json()["detail"]

        await publish(stack, SupplementReceived(**case(d, now + timedelta(hours=2), actor="chuyen-vien-1", state=4,
                      policy="pause", waited_hours=1.0, previous_appointment_at=now, appointment_at=later)))
        await publish(stack, DeadlineExtended(**case(d, now + timedelta(hours=3), actor="lanh-dao", state=4,
                      reason="Cần xác minh thông tin tại nơi cư trú", previous_appointment_at=later,
                      appointment_at=later + timedelta(days=2))))
        await eventually(lambda: _has(desk, code, "vn.onestop.case.deadline_extended.v1"))
        r = await desk.get(f"/dossiers/{code}/slips/04")
        assert r.status_code == 200 and "Phiếu xin lỗi và hẹn lại ngày trả kết quả" in r.text
        assert "Cần xác minh thông tin tại nơi cư trú" in r.text

        r = await desk.post(f"/dossiers/{code}/handover", {"method": "in_person"})
        assert r.status_code == 409 and "result_ready" in r.json()["detail"]

        await publish(stack, ResultReady(**case(d, now + timedelta(hours=4), actor="lanh-dao", state=9,
                      sub_state="at_return_desk", outcome="approved", appointment_at=later + timedelta(days=2),
                      resolution="early", handover=True, receiver="desk-officer", receiver_agency=DESK,
                      step_name="Lãnh đạo UBND phường ký", step_deadline=now + timedelta(hours=5),
                      timeliness="early")))
        await eventually(lambda: desk.state_is(code, "result_ready", result_at_desk=True))
        looked = (await desk.lookup(code, APPLICANT["personal_id"][-4:])).json()
        assert looked["state_label"] == "Đã xử lý xong" and "nhận kết quả" in looked["next_step"]

        r = await desk.post(f"/dossiers/{code}/handover", {"method": "in_person"})
        assert r.status_code == 200 and r.json()["state"] == "returned" and r.json()["state_code"] == 10, r.text
        r = await desk.post(f"/dossiers/{code}/handover", {"method": "post"})
        assert r.status_code == 409

        r = await desk.post(f"/dossiers/{code}/rating", {"rating": 5, "comment": "Cán bộ hướng dẫn tận tình"})
        assert r.status_code == 201 and r.json()["rating"] == 5
        r = await desk.post(f"/dossiers/{code}/rating", {"rating": 1})
        assert r.status_code == 409 and "one rating per dossier" in r.json()["detail"]
        assert (await desk.post(f"/dossiers/{code}/rating", {"rating": 6})).status_code == 422

        r = await desk.get(f"/dossiers/{code}/slips/control")
        assert r.status_code == 200 and code in r.text
        assert "Phiếu kiểm soát quá trình giải quyết hồ sơ" in r.text and "Đúng hạn" in r.text and "Trước hạn" in r.text
        r = await desk.get(f"/dossiers/{code}/slips/control", format="pdf")
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
        text = " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(r.content)).pages)
        assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text.upper() and code in text
        assert "Tiếp nhận, kiểm tra, số hóa hồ sơ" in text

        day = re.search(r"-(\d{6})-", code).group(1)  # type: ignore[union-attr]
        iso = f"20{day[:2]}-{day[2:4]}-{day[4:]}"
        book = await desk.get("/tracking-book", **{"from": iso, "to": iso, "format": "html"})
        assert book.status_code == 200 and code in book.text and "Sổ theo dõi hồ sơ" in book.text

    types = [dict(rec.headers)["ce_type"] for rec in await find_records(
        stack.kafka, topics.INTAKE, lambda rec: rec.key == d["id"].encode(), at_least=4)]
    assert types == [b"vn.onestop.dossier.received.v1", b"vn.onestop.dossier.supplement_submitted.v1",
                     b"vn.onestop.dossier.result_handed_over.v1", b"vn.onestop.dossier.rated.v1"]


async def _has(desk: Desk, code: str, event_type: str) -> bool:
    return event_type in await desk.history(code)


async def test_withdrawal_once(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        desk = Desk(client, stack)
        d = await desk.receive()
        r = await desk.post(f"/dossiers/{d['code']}/withdrawal", {"reason": "Người nộp không còn nhu cầu"})
        assert r.status_code == 200 and r.json()["state"] == "withdrawn" and r.json()["state_code"] == 7
        r = await desk.post(f"/dossiers/{d['code']}/withdrawal", {})
        assert r.status_code == 409 and "withdrawn" in r.json()["detail"]
        looked = (await desk.lookup(d["code"], APPLICANT["personal_id"][-4:])).json()
        assert looked["state_label"] == "Công dân yêu cầu rút hồ sơ" and looked["appointment_at"] is None


async def test_the_public_lookup_is_rate_limited(stack: Stack) -> None:
    """Runs last in this file: it empties this client's bucket."""
    async with httpx.AsyncClient(timeout=10) as client:
        desk = Desk(client, stack)
        statuses: list[int] = []
        for _ in range(60):
            r = await desk.lookup(f"{DESK}-000101-0001", "1234")
            statuses.append(r.status_code)
            if r.status_code == 429:
                assert int(r.headers["Retry-After"]) >= 1
                break
        assert statuses[-1] == 429 and set(statuses[:-1]) <= {404}, statuses
