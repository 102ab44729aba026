"""The citizen's online submission (issue 17, docs/domain.md §5.2; no sign-in, phone-first): choose the ward and
an online procedure, fill in the applicant and the papers, upload a file per paper, and follow the submission by
its id + the last 4 digits of the personal ID.

The upload token intake gives a new submission stays in a signed, short-lived, HttpOnly cookie limited to these
pages (SameSite strict: another site's form cannot post a file with it); it is never put in a URL. No CSRF token
on the first form: forging it would only let a site file what anyone may file with intake directly; the form's
idempotency key makes a double submit one submission."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from services.console.client import ServiceError
from services.console.online import (
    LEVEL_LABELS,
    PASS_COOKIE,
    PASS_PATH,
    PASS_SECONDS,
    Pass,
    PassSigner,
    by_field,
    last4_ok,
    offered,
    state_view,
    submission_body,
    submission_id,
    typed,
)
from services.console.pages import documents, forms
from services.console.web import console, render

UPLOAD_PATH = PASS_PATH + r"/[^/]+/tep"  # the one citizen route whose body may pass the 1 MiB bound
NOT_FOUND = "Không tìm thấy hồ sơ với mã nộp và 4 chữ số này."
TOO_MANY = "Bạn đã tra cứu quá nhiều lần. Vui lòng thử lại sau ít phút."
UPLOAD_REFUSALS = {  # intake's answers to a citizen's file that the desk's reasons do not cover
    404: "Không tìm thấy hồ sơ đã nộp cho phiên này. Hãy tra cứu bằng mã nộp hoặc liên hệ Bộ phận Một cửa.",
    409: "Bộ phận Một cửa đã kiểm tra hồ sơ này, không tải thêm tệp được nữa.",
    422: "Không lưu được tệp: giấy tờ này không có trong thành phần hồ sơ, hoặc tệp khác đã gửi trùng lần tải này.",
}
EXPIRED = ("Phiên nộp hồ sơ trên trình duyệt này đã hết hạn hoặc không có. Hồ sơ đã nộp vẫn được giữ: tra cứu "
           "bằng mã nộp; cần bổ sung tệp, hãy liên hệ Bộ phận Một cửa.")


def _forwarded(request: Request) -> dict[str, str]:
    """The citizen's address, so intake's per-address limits apply to each citizen, not to the console."""
    return {"X-Forwarded-For": request.client.host if request.client else ""}


def _signer(request: Request) -> PassSigner:
    return PassSigner(console(request).settings.session_secret)


async def _online(request: Request) -> list[dict[str, Any]]:
    return offered(await console(request).procedures.procedures())


def router() -> APIRouter:
    r = APIRouter(prefix="/tra-cuu")

    @r.get("/nop-truc-tuyen")
    async def start(request: Request, agency: str = "", procedure: str = "") -> Response:
        wards = console(request).wards
        found = [p for p in await _online(request) if p["code"] == procedure]
        if agency in wards and found:
            return _form(request, agency, found[0], {}, {})
        return render(request, "citizen/online_start.html", wards=wards, agency=agency, procedure=procedure,
                      fields=by_field(await _online(request)), levels=LEVEL_LABELS,
                      error="Chọn phường và thủ tục." if agency or procedure else "")

    @r.post("/nop-truc-tuyen")
    async def submit(request: Request) -> Response:
        form = await request.form()
        agency, code = forms.text(form, "receiving_agency"), forms.text(form, "procedure_code")
        found = [p for p in await _online(request) if p["code"] == code]
        if agency not in console(request).wards or not found:
            return RedirectResponse(f"{PASS_PATH}", status_code=303)
        body = submission_body(form, list(found[0].get("documents") or []))
        headers = {**_forwarded(request), "Idempotency-Key": forms.text(form, "idempotency_key") or str(uuid.uuid4())}
        try:
            out = await console(request).services.json("intake", "POST", "/public/submissions", json=body,
                                                        headers=headers)
        except ServiceError as exc:
            if exc.status != 422:
                raise
            errors = forms.field_errors(exc.field_errors()) or {"general": exc.message}
            return _form(request, agency, found[0], typed(form), errors, status=422,
                         idem=forms.text(form, "idempotency_key"))
        issued = Pass(str(out["id"]), str(out["upload_token"]), body["applicant"]["personal_id"][-4:], code)
        response = RedirectResponse(f"{PASS_PATH}/{issued.id}", status_code=303)
        _keep(request, response, issued)
        return response

    @r.get("/nop-truc-tuyen/{sid}")
    async def files(request: Request, sid: uuid.UUID) -> Response:
        return await _files(request, str(sid))

    @r.post("/nop-truc-tuyen/{sid}/tep")
    async def upload(request: Request, sid: uuid.UUID) -> Response:
        held = _signer(request).loads(request.cookies.get(PASS_COOKIE), str(sid))
        if held is None:
            return render(request, "citizen/online_lookup.html", status=403, sid=str(sid), error=EXPIRED)
        form = await request.form()
        item, file = forms.text(form, "item"), form.get("file")
        if not item.isdigit() or not 1 <= int(item) <= 100:
            return await _files(request, held.id, status=422)
        sent = await _send(request, held, int(item), file) if isinstance(file, UploadFile) else "Chưa chọn tệp."
        if isinstance(sent, str):
            return await _files(request, held.id, {int(item): sent}, status=422)
        response = RedirectResponse(f"{PASS_PATH}/{held.id}?done={item}#item-{item}", status_code=303)
        _keep(request, response, held.with_file(sent))
        return response

    @r.get("/nop-truc-tuyen/{sid}/da-nop")
    async def done(request: Request, sid: uuid.UUID) -> Response:
        """The confirmation; the pass is dropped here (the submission is followed by id + 4 digits from now)."""
        held = _signer(request).loads(request.cookies.get(PASS_COOKIE), str(sid))
        s = await _status(request, held.id, held.last4) if held else None
        response = render(request, "citizen/online_done.html", sid=str(sid), s=s,
                          state=state_view(s) if s else None, files=len(held.files) if held else None)
        response.delete_cookie(PASS_COOKIE, path=PASS_PATH, httponly=True, samesite="strict",
                               secure=console(request).sessions.secure)
        return response

    @r.get("/truc-tuyen")
    async def status(request: Request, id: str = "", last4: str = "") -> Response:
        if not id and not last4:
            return render(request, "citizen/online_lookup.html", sid="", error="")
        sid = submission_id(id)
        if sid is None or not last4_ok(last4):
            return render(request, "citizen/online_lookup.html", status=422, sid=id,
                          error="Nhập mã nộp hồ sơ (trên trang xác nhận) và đúng 4 chữ số cuối số định danh.")
        try:
            s = await console(request).services.json("intake", "GET", f"/public/submissions/{sid}",
                                                      params={"last4": last4}, headers=_forwarded(request))
        except ServiceError as exc:
            messages = {404: NOT_FOUND, 422: NOT_FOUND, 429: TOO_MANY}
            if exc.status not in messages:
                raise
            return render(request, "citizen/online_lookup.html", status=exc.status, sid=id,
                          error=messages[exc.status])
        return render(request, "citizen/online_status.html", s=s, state=state_view(s), last4=last4)

    return r


def _form(request: Request, agency: str, procedure: dict[str, Any], typed_in: dict[str, Any],
          errors: dict[str, str], status: int = 200, idem: str = "") -> Response:
    return render(request, "citizen/online_form.html", status=status, agency=agency,
                  ward=console(request).wards[agency], procedure=procedure, v=typed_in, errors=errors,
                  levels=LEVEL_LABELS, idem=idem or str(uuid.uuid4()))


def _keep(request: Request, response: Response, held: Pass) -> None:
    response.set_cookie(PASS_COOKIE, _signer(request).dumps(held), max_age=PASS_SECONDS, httponly=True,
                        samesite="strict", secure=console(request).sessions.secure, path=PASS_PATH)


async def _status(request: Request, sid: str, last4: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = await console(request).services.json(
            "intake", "GET", f"/public/submissions/{sid}", params={"last4": last4}, headers=_forwarded(request))
    except ServiceError as exc:
        if exc.status in (404, 429):
            return None
        raise
    return found


async def _files(request: Request, sid: str, doc_errors: dict[int, str] | None = None,
                 status: int = 200) -> Response:
    """Step 3: a file per paper of the checklist (several allowed), the ones sent so far listed."""
    held = _signer(request).loads(request.cookies.get(PASS_COOKIE), sid)
    if held is None:
        return render(request, "citizen/online_lookup.html", status=403, sid=sid, error=EXPIRED)
    # No status look-up here: it is rate-limited per address, and intake refuses a file once the desk decided.
    found = [p for p in await console(request).procedures.procedures() if p["code"] == held.procedure]
    procedure = found[0] if found else {}
    checklist = list(procedure.get("documents") or [])
    sent = [{"item": f.item, "name": f.name, "size": documents.size_label(f.size),
             "paper": checklist[f.item - 1] if 0 < f.item <= len(checklist) else ""} for f in held.files]
    return render(request, "citizen/online_files.html", status=status, sid=held.id, procedure=procedure,
                  sent=sent, checklist=checklist, doc_errors=doc_errors or {}, accept=documents.ACCEPT,
                  done=request.query_params.get("done", ""))


async def _send(request: Request, held: Pass, item: int, file: UploadFile) -> str | dict[str, Any]:
    c = console(request)
    limits = documents.Limits(c.settings.upload_file_max_bytes, c.settings.upload_dossier_max_bytes)
    headers = {**_forwarded(request), "X-Submission-Token": held.token}
    return await documents.send(c.services, f"/public/submissions/{held.id}/documents", held.id, item, file,
                                limits, held.scans(), headers=headers, reasons=UPLOAD_REFUSALS)
