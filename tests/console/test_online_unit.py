"""Online submission, the desk's queue of submissions and the result file in the console (issue 17), without any
service: the pure helpers, and the citizen's page flow against a fake intake that answers as intake's API spec
says (the browser tests in test_online.py and test_result.py run the real services)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi.testclient import TestClient
from starlette.datastructures import FormData

from services.console.catalogue import ProcedureCache
from services.console.client import ServiceError
from services.console.online import PASS_COOKIE, Pass, PassSigner, offered, submission_body, submission_id
from services.console.pages import documents, results
from tests.console.test_console_unit import client, sign_in

WARD = "000.00.12.H55"
PROCEDURES = [
    {"code": "1.001193", "name": "Đăng ký khai sinh", "field": "Hộ tịch", "online_level": "partial",
     "received_at": ["ward"], "documents": ["Tờ khai", "Giấy chứng sinh"], "steps": []},
    {"code": "1.004873", "name": "Cấp Giấy xác nhận tình trạng hôn nhân", "field": "Hộ tịch", "online_level": "full",
     "received_at": ["ward"], "documents": ["Tờ khai"], "steps": []},
    {"code": "1.012812", "name": "Hòa giải tranh chấp đất đai", "field": "Đất đai", "online_level": "none",
     "received_at": ["ward"], "documents": ["Đơn"], "steps": []},
]
PDF = b"%PDF-1.4\n%%EOF\n"


class FakeIntake:
    """Intake's public submission API as the spec gives it (idempotent create, token-guarded uploads)."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict[str, Any]] = {}
        self.subs: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, dict[str, str]]] = []

    async def json(self, service: str, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        return (await self.raw(service, method, path, token, **kw)).json()

    async def raw(self, service: str, method: str, path: str, token: str | None = None,
                  headers: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
        headers = headers or {}
        self.calls.append((method, path, headers))
        if path == "/procedures":
            return httpx.Response(200, json=PROCEDURES)
        if method == "POST" and path == "/public/submissions":
            return self._create(kw["json"], headers["Idempotency-Key"])
        sid = path.split("/")[3]
        sub = self.subs.get(sid)
        if sub is None:
            raise ServiceError(404, "no such submission")
        if method == "POST":  # …/documents
            if headers.get("X-Submission-Token") != sub["upload_token"]:
                raise ServiceError(403, "bad token")
            data = b"".join([chunk async for chunk in kw["content"]])
            entry = {"id": str(uuid.uuid4()), "checklist_item": kw["params"]["item"], "item_name": "Tờ khai",
                     "sha256": "0" * 64, "size": len(data), "media_type": "application/pdf", "digitisation": 1,
                     "file_name": kw["params"].get("file_name"), "bytes": data}
            sub["documents"].append(entry)
            return httpx.Response(201, json={k: v for k, v in entry.items() if k != "bytes"})
        if kw.get("params", {}).get("last4") != sub["last4"]:
            raise ServiceError(404, "no such submission")
        status = ("id", "state", "procedure_name", "submitted_at", "code", "appointment_at", "refusal_reason")
        return httpx.Response(200, json={k: sub[k] for k in status})  # SubmissionStatusOut: no files, no PII

    def _create(self, body: dict[str, Any], key: str) -> httpx.Response:
        if key in self.by_key:
            return httpx.Response(200, json=self.by_key[key])
        if len(body["applicant"]["personal_id"]) != 12:
            raise ServiceError(422, [{"loc": ["body", "applicant", "personal_id"], "msg": "must be 12 digits"}])
        sub = {"id": str(uuid.uuid4()), "state": "awaiting_check", "procedure_code": body["procedure_code"],
               "procedure_name": "Đăng ký khai sinh", "receiving_agency": body["receiving_agency"],
               "submitted_at": "2026-01-05T02:00:00+00:00", "code": None, "appointment_at": None,
               "refusal_reason": None, "documents": [], "upload_token": uuid.uuid4().hex,
               "last4": body["applicant"]["personal_id"][-4:], "body": body}
        self.subs[sub["id"]] = sub
        self.by_key[key] = {k: v for k, v in sub.items() if k != "last4"}
        return httpx.Response(201, json=self.by_key[key])


def citizen() -> tuple[TestClient, FakeIntake]:
    c, fake = client(), FakeIntake()
    state: Any = c.app.state  # type: ignore[attr-defined]
    state.console.services = fake
    state.console.procedures = ProcedureCache(fake)  # type: ignore[arg-type]
    return c, fake


FORM = {"receiving_agency": WARD, "procedure_code": "1.001193", "idempotency_key": "k-1", "full_name": "Lê Văn Mạng",
        "personal_id": "019090003131", "phone": "0912000313", "doc-1": "on", "copies-1": "2", "doc-2": "on"}


def test_only_online_procedures_and_the_wards_are_offered() -> None:
    assert [p["code"] for p in offered(PROCEDURES)] == ["1.004873", "1.001193"]  # by field, then name; no `none`
    c, _ = citizen()
    page = c.get("/tra-cuu/nop-truc-tuyen")
    assert page.status_code == 200 and "Phường Đức Xuân" in page.text
    assert "1.004873" in page.text and "1.012812" not in page.text
    form = c.get("/tra-cuu/nop-truc-tuyen", params={"agency": WARD, "procedure": "1.001193"})
    assert 'name="idempotency_key"' in form.text and "Giấy chứng sinh" in form.text
    offline = c.get("/tra-cuu/nop-truc-tuyen", params={"agency": WARD, "procedure": "1.012812"})
    assert 'name="idempotency_key"' not in offline.text  # back to the choice: not an online procedure


def test_submit_keeps_the_upload_token_in_a_signed_cookie_never_in_a_url() -> None:
    c, fake = citizen()
    first = c.post("/tra-cuu/nop-truc-tuyen", data=FORM)
    assert first.status_code == 303
    sub = next(iter(fake.subs.values()))
    assert first.headers["location"] == f"/tra-cuu/nop-truc-tuyen/{sub['id']}"
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/tra-cuu/nop-truc-tuyen" in cookie
    assert sub["upload_token"] not in first.headers["location"]
    assert sub["body"]["documents"] == [{"name": "Tờ khai", "copies": 2}, {"name": "Giấy chứng sinh", "copies": 1}]
    assert c.post("/tra-cuu/nop-truc-tuyen", data=FORM).headers["location"] == first.headers["location"]
    assert len(fake.subs) == 1  # the same idempotency key: the same submission

    files = c.get(first.headers["location"])
    assert files.status_code == 200 and sub["upload_token"] not in files.text and sub["id"] in files.text
    sent = c.post(f"/tra-cuu/nop-truc-tuyen/{sub['id']}/tep", data={"item": "1"},
                  files={"file": ("to-khai.pdf", PDF, "application/pdf")})
    assert sent.status_code == 303 and sub["upload_token"] not in sent.headers["location"]
    assert sub["documents"][0]["bytes"] == PDF and sub["documents"][0]["file_name"] == "to-khai.pdf"
    posted = [h for m, p, h in fake.calls if m == "POST" and p.endswith("/documents")]
    assert posted[0]["X-Submission-Token"] == sub["upload_token"] and posted[0]["Idempotency-Key"]
    listed = c.get(first.headers["location"]).text
    assert "to-khai.pdf" in listed and "1. Tờ khai" in listed and sub["upload_token"] not in listed

    done = c.get(f"/tra-cuu/nop-truc-tuyen/{sub['id']}/da-nop")
    assert sub["id"] in done.text and "Chờ tiếp nhận" in done.text and "1 tệp" in done.text
    assert f'{PASS_COOKIE}=""' in done.headers["set-cookie"]


def test_an_upload_without_the_pass_is_refused_before_intake_is_asked() -> None:
    c, fake = citizen()
    sid = c.post("/tra-cuu/nop-truc-tuyen", data=FORM).headers["location"].rsplit("/", 1)[1]
    other, _ = citizen()
    other.app.state.console.services = fake  # type: ignore[attr-defined]
    refused = other.post(f"/tra-cuu/nop-truc-tuyen/{sid}/tep", data={"item": "1"},
                         files={"file": ("a.pdf", PDF, "application/pdf")})
    assert refused.status_code == 403 and "hết hạn" in refused.text
    assert not fake.subs[sid]["documents"]


def test_a_refused_field_shows_its_reason_and_keeps_what_was_typed() -> None:
    c, fake = citizen()
    page = c.post("/tra-cuu/nop-truc-tuyen", data={**FORM, "personal_id": "123"})
    assert page.status_code == 422 and "12 digits" in page.text and 'value="Lê Văn Mạng"' in page.text
    assert 'value="k-1"' in page.text  # the same key on the retry: still one submission
    assert not fake.subs


def test_the_status_look_up_needs_an_id_and_four_digits() -> None:
    c, fake = citizen()
    sid = c.post("/tra-cuu/nop-truc-tuyen", data=FORM).headers["location"].rsplit("/", 1)[1]
    assert c.get("/tra-cuu/truc-tuyen", params={"id": "../x", "last4": "3131"}).status_code == 422
    assert c.get("/tra-cuu/truc-tuyen", params={"id": sid, "last4": "0000"}).status_code == 404
    fake.subs[sid].update(state="refused", refusal_reason="Thiếu giấy chứng sinh")
    seen = c.get("/tra-cuu/truc-tuyen", params={"id": sid, "last4": "3131"})
    assert "Bị từ chối" in seen.text and "Thiếu giấy chứng sinh" in seen.text and "019090003131" not in seen.text


def test_pass_and_ids() -> None:
    signer = PassSigner("secret")
    raw = signer.dumps(Pass("a", "tok", "1234", "1.001193"))
    assert signer.loads(raw, "a") == Pass("a", "tok", "1234", "1.001193")
    assert signer.loads(raw, "b") is None and signer.loads(raw + "x", "a") is None
    assert PassSigner("other").loads(raw, "a") is None
    assert submission_id(" 0b9c3c1e-2a86-4bd2-9e38-6b0e1f1b7d11 ") == "0b9c3c1e-2a86-4bd2-9e38-6b0e1f1b7d11"
    assert submission_id("../admin") is None
    body = submission_body(FormData({**FORM, "copies-2": "-1"}), ["Tờ khai", "Giấy chứng sinh", "Khác"])
    assert [d["copies"] for d in body["documents"]] == [2, 1] and body["applicant"]["email"] is None
    stored = Pass("a", "tok", "1234", "1.001193").with_file({"id": "f", "checklist_item": 2, "size": 10})
    assert stored.with_file({"id": "f", "checklist_item": 2, "size": 10}) == stored  # a repeat adds nothing
    assert signer.loads(signer.dumps(stored), "a") == stored and stored.scans()[0]["size"] == 10


def test_the_result_entry_and_the_electronic_refusal_read_in_vietnamese() -> None:
    row = {"id": "d", "kind": "result", "checklist_item": 0, "item_name": "", "size": 2048,
           "media_type": "application/pdf", "digitisation": 1}
    shown = documents.shown([row, {**row, "kind": "paper", "checklist_item": 2, "item_name": "Tờ khai"}])
    assert shown[0]["is_result"] and shown[0]["label"] == "Kết quả giải quyết (đã ký số)"
    assert shown[1]["label"] == "2. Tờ khai" and not shown[1]["is_result"]
    refused = ServiceError(409, "cannot approve electronically: no result is attached")
    assert results.action_refusal("approve", True, refused).startswith("Chưa có kết quả đã ký số")
    assert results.action_refusal("approve", False, refused) == refused.message
    case = {"competent_agency": WARD, "state": 4, "closed_at": None}
    assert results.may_attach(case, frozenset({"specialist"}), WARD)
    assert not results.may_attach(case, frozenset({"desk_officer"}), WARD)
    assert not results.may_attach({**case, "state": 9}, frozenset({"department_head"}), WARD)
    assert results.result_key("X", "ab") == results.result_key("X", "ab") != results.result_key("Y", "ab")


def test_the_desk_form_no_longer_offers_the_online_channel() -> None:
    c, _ = citizen()
    sign_in(c)
    form = c.get("/desk/new", params={"procedure": "1.001193"})
    assert form.status_code == 200 and 'value="in_person"' in form.text and 'value="online"' not in form.text
    assert 'href="/desk/submissions"' in c.get("/desk").text and 'href="/desk/submissions"' in c.get("/").text


def test_the_citizens_and_the_results_upload_routes_pass_the_1_mib_bound() -> None:
    c, _ = citizen()
    two_mib = {"file": ("scan.pdf", b"%PDF-1.4\n" + bytes(2 * 1024 * 1024), "application/pdf")}
    assert c.post("/tra-cuu/nop-truc-tuyen", files=two_mib).status_code == 413  # the first form keeps the bound
    sid = uuid.uuid4()
    upload = c.post(f"/tra-cuu/nop-truc-tuyen/{sid}/tep", data={"item": "1"}, files=two_mib)
    assert upload.status_code == 403 and "hết hạn" in upload.text  # past the bound; refused for want of a pass
    sign_in(c)
    result = c.post("/cases/000.00.12.H55-260108-0001/result", files=two_mib)
    assert result.status_code == 403 and "CSRF" in result.text
