"""The desk (tiếp nhận): find a procedure, receive / refuse / ask for papers, the dossier's counter moves,
its slips, and the tracking book. Everything goes through intake's desk API with the officer's token."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from services.console.client import ServiceError
from services.console.pages import documents, drafts, forms
from services.console.sessions import Session
from services.console.web import (
    CODE_PATTERN,
    TZ,
    DossierCode,
    Officer,
    Poster,
    console,
    error_page,
    render,
    require_role,
)

SlipForm = Annotated[str, Path(pattern="^[a-z]+$")]
# The receipt form's channels: an online dossier comes only through an online submission (pages/submissions.py,
# docs/domain.md §5.2), so intake refuses "online" here; the label stays for showing online dossiers.
CHANNELS = {"in_person": "Trực tiếp", "post": "Bưu chính"}
CHANNEL_LABELS = {**CHANNELS, "online": "Trực tuyến"}
SLIP_FORMS = {"receipt": "Giấy tiếp nhận và hẹn trả kết quả (Mẫu 01)", "supplement": "Phiếu yêu cầu bổ sung (Mẫu 02)",
              "refusal": "Phiếu từ chối tiếp nhận (Mẫu 03)", "control": "Phiếu kiểm soát quá trình giải quyết"}


def _desk(session: Session) -> None:
    require_role(session, "desk_officer")


async def _procedures(request: Request) -> list[dict[str, Any]]:
    return await console(request).procedures.procedures()


def router() -> APIRouter:
    r = APIRouter(prefix="/desk")

    @r.get("")
    async def search(request: Request, session: Officer, q: str = "") -> Response:
        _desk(session)
        found = [p for p in await _procedures(request) if forms.matches(p, q)]
        template = "desk/_procedures.html" if request.headers.get("HX-Request") else "desk/search.html"
        return render(request, template, q=q, procedures=found[:50], total=len(found))

    @r.get("/new")
    async def new(request: Request, session: Officer, procedure: str) -> Response:
        _desk(session)
        return await _form(request, session, procedure, {}, {})

    @r.post("/draft-scans")
    async def draft_scans(request: Request, session: Poster) -> Response:
        """Scans taken on the receipt form before the receipt, under the key the form will receive with; the form
        comes back with what was typed, the same key and the scans taken so far (works without JavaScript)."""
        _desk(session)
        form = await request.form()  # already parsed by the CSRF check; the files are spooled, not in memory
        key, code = forms.text(form, "idempotency_key"), forms.text(form, "procedure_code")
        found = [p for p in await _procedures(request) if p["code"] == code]
        if not drafts.valid_key(key) or not found:
            return error_page(request, ServiceError(404, "Biểu mẫu tiếp nhận không còn hợp lệ: hãy mở lại."),
                              back="/desk")
        picked = drafts.chosen(form, len(found[0].get("documents", [])))
        c = console(request)
        limits = documents.Limits(c.settings.upload_file_max_bytes, c.settings.upload_dossier_max_bytes)
        errors = await drafts.upload(c.services, session, key, code, picked, limits) if picked else {
            _item(forms.text(form, "scan_item")): drafts.NOTHING_CHOSEN}
        return await _form(request, session, code, forms.values(form), {}, key=key, scan_errors=errors,
                           status=422 if errors else 200)

    @r.get("/drafts/{key}/documents/{document_id}")
    async def draft_scan(request: Request, session: Officer, key: Annotated[str, Path(pattern=drafts.KEY_PATTERN)],
                         document_id: uuid.UUID) -> Response:
        """A scan taken before the receipt, for the officer to check it; intake's 404/409 are the console's."""
        _desk(session)
        return await documents.passthrough(request, session, f"/drafts/{key}/documents/{document_id}/content")

    @r.post("/receive")
    async def receive(request: Request, session: Poster) -> Response:
        return await _submit(request, session, "/dossiers")

    @r.post("/refuse")
    async def refuse(request: Request, session: Poster) -> Response:
        return await _submit(request, session, "/dossiers/refusals")

    @r.post("/paper-request")
    async def paper_request(request: Request, session: Poster) -> Response:
        _desk(session)
        form = await request.form()
        code = forms.text(form, "procedure_code")
        checklist = [p for p in await _procedures(request) if p["code"] == code]
        missing = [d for d in (checklist[0]["documents"] if checklist else []) if d not in forms.texts(form, "doc")]
        body = {"procedure_code": code, "channel": forms.text(form, "channel") or "in_person",
                "applicant": {"full_name": forms.text(form, "full_name")},
                "items": missing + forms.lines(form, "other_docs"), "reason": forms.text(form, "reason")}
        try:
            paper = await console(request).services.json("intake", "POST", "/paper-requests", session.token, json=body)
        except ServiceError as exc:
            if exc.status != 422:
                raise
            return await _form(request, session, code, forms.values(form), _errors(exc),
                               key=forms.text(form, "idempotency_key"), status=422)
        return render(request, "desk/paper_request.html", paper=paper)

    @r.get("/paper-requests/{request_id}/slip")
    async def paper_slip(request: Request, session: Officer, request_id: uuid.UUID, format: str = "html") -> Response:
        return await _slip(request, session, f"/paper-requests/{request_id}/slip", format)

    @r.get("/find")
    async def find(request: Request, session: Officer, code: str) -> Response:
        wanted = code.strip()
        if not re.match(CODE_PATTERN, wanted):
            return error_page(request, ServiceError(404, f"Không có hồ sơ mã {wanted}."), back="/desk")
        return RedirectResponse(f"/desk/dossiers/{wanted}", status_code=303)

    @r.get("/dossiers/{code}")
    async def dossier(request: Request, session: Officer, code: DossierCode) -> Response:
        _desk(session)
        return await _dossier_page(request, session, code)

    @r.get("/dossiers/{code}/slips/{form}")
    async def slip(request: Request, session: Officer, code: DossierCode, form: SlipForm,
                   format: str = "html") -> Response:
        return await _slip(request, session, f"/dossiers/{code}/slips/{form}", format)

    # Before the counter moves' catch-all /dossiers/{code}/{move}.
    @r.post("/dossiers/{code}/documents")
    async def upload(request: Request, session: Poster, code: DossierCode) -> Response:
        """One scan of a checklist paper, streamed on to intake; its refusal (413, 415…) shows beside the item."""
        _desk(session)
        form = await request.form()  # already parsed by the CSRF check; the file is spooled, not in memory
        item, file = forms.text(form, "item"), form.get("file")
        if not item.isdigit() or not 1 <= int(item) <= 100:
            return error_page(request, ServiceError(404, "Không có giấy tờ này."), back=f"/desk/dossiers/{code}")
        if not isinstance(file, UploadFile):
            reason: str | None = "Chưa chọn tệp."
        else:
            c = console(request)
            scans = await documents.manifest(c.services, session, code) or []
            limits = documents.Limits(c.settings.upload_file_max_bytes, c.settings.upload_dossier_max_bytes)
            reason = await documents.upload(c.services, session, code, int(item), file, limits, scans)
        if reason:
            return await _dossier_page(request, session, code, doc_errors={int(item): reason}, status=422)
        return RedirectResponse(f"/desk/dossiers/{code}?done=documents#documents-h", status_code=303)

    @r.post("/dossiers/{code}/{move}")
    async def counter_move(request: Request, session: Poster, code: DossierCode, move: str) -> Response:
        """Supplement handed in, withdrawal, hand-over of the result, the applicant's rating."""
        _desk(session)
        form = await request.form()
        bodies = {
            "supplements": lambda: {"documents": [{"name": n, "digitised": True} for n in forms.lines(form, "items")],
                                    "note": forms.text(form, "note")},
            "withdrawal": lambda: {"reason": forms.text(form, "reason")},
            "handover": lambda: {"method": forms.text(form, "method") or "in_person"},
            "rating": lambda: {"rating": int(forms.text(form, "rating") or 0), "comment": forms.text(form, "comment")},
        }
        if move not in bodies:
            return error_page(request, ServiceError(404, "Không có thao tác này."), back=f"/desk/dossiers/{code}")
        try:
            await console(request).services.json("intake", "POST", f"/dossiers/{code}/{move}", session.token,
                                                  json=bodies[move]())
        except ServiceError as exc:
            if exc.status not in (409, 422):
                raise
            return await _dossier_page(request, session, code, error=exc.message, status=exc.status)
        return RedirectResponse(f"/desk/dossiers/{code}?done={move}", status_code=303)

    @r.get("/tracking-book")
    async def tracking_book(request: Request, session: Officer, start: date | None = None,
                            end: date | None = None) -> Response:
        require_role(session, "desk_officer", "report_viewer")
        today = console(request).clock.now().astimezone(TZ).date()
        start, end = start or today - timedelta(days=30), end or today
        params = {"from": start.isoformat(), "to": end.isoformat()}
        rows = await console(request).services.json("intake", "GET", "/tracking-book", session.token, params=params)
        return render(request, "desk/tracking_book.html", rows=rows, start=start, end=end)

    @r.get("/tracking-book.pdf")
    async def tracking_book_pdf(request: Request, session: Officer, start: date, end: date) -> Response:
        require_role(session, "desk_officer", "report_viewer")
        params = {"from": start.isoformat(), "to": end.isoformat(), "format": "pdf"}
        got = await console(request).services.raw("intake", "GET", "/tracking-book", session.token, params=params)
        return Response(got.content, media_type="application/pdf",
                        headers={"Content-Disposition": got.headers.get("Content-Disposition", "inline")})

    return r


async def _form(request: Request, session: Session, code: str, typed: dict[str, Any], errors: dict[str, str],
                key: str = "", scan_errors: dict[int, str] | None = None, status: int = 200) -> Response:
    """The receipt form; `key`: the one it was posted with, kept (with the scans taken under it) when no receipt
    was made with it, else a new one — it must exist before the first scan and stay until the receipt (§4.4)."""
    found = [p for p in await _procedures(request) if p["code"] == code]
    if not found:
        return error_page(request, ServiceError(404, f"Không có thủ tục mã {code}."), back="/desk")
    kept = drafts.valid_key(key)
    scans = await drafts.taken(console(request).services, session, key) if kept else []
    return render(request, "desk/form.html", status=status, procedure=found[0], v=typed, errors=errors,
                  channels=CHANNELS, idem=key if kept else str(uuid.uuid4()), drafts=drafts.by_item(scans),
                  scan_errors=scan_errors or {}, accept=documents.ACCEPT)


def _item(raw: str) -> int:
    return int(raw) if raw.isdigit() else 1


def _errors(exc: ServiceError) -> dict[str, str]:
    errors = forms.field_errors(exc.field_errors())
    return errors or {"general": exc.message}


async def _submit(request: Request, session: Session, path: str) -> Response:
    """Receive or refuse; the form's idempotency key makes a double click one dossier."""
    _desk(session)
    form = await request.form()
    body = forms.dossier_body(form)
    if path.endswith("refusals"):
        body["reason"] = forms.text(form, "reason")
    key = forms.text(form, "idempotency_key") or None
    headers = {"Idempotency-Key": key} if key else {}
    try:
        out = await console(request).services.json("intake", "POST", path, session.token, json=body, headers=headers)
    except ServiceError as exc:
        if exc.status != 422:
            raise
        # No dossier was made: the same key keeps the scans taken for it, unless intake refused the key itself.
        kept = "" if "Idempotency-Key" in exc.message else key or ""
        return await _form(request, session, body["procedure_code"], forms.values(form), _errors(exc), key=kept,
                           status=422)
    return RedirectResponse(f"/desk/dossiers/{out['code']}", status_code=303)


async def _dossier_page(request: Request, session: Session, code: str, error: str = "",
                        status: int = 200, doc_errors: dict[int, str] | None = None) -> Response:
    services = console(request).services
    dossier = await services.json("intake", "GET", f"/dossiers/{code}", session.token)
    history = await services.json("intake", "GET", f"/dossiers/{code}/history", session.token)
    scans = await documents.manifest(services, session, code)
    # The checklist the items are numbered by; the catalogue's current version, which intake checks again.
    found = [p for p in await _procedures(request) if p["code"] == dossier.get("procedure_code")]
    return render(request, "desk/dossier.html", status=status, d=dossier, history=history, error=error,
                  slips=SLIP_FORMS, channels=CHANNEL_LABELS, done=request.query_params.get("done", ""),
                  scans=scans, checklist=found[0].get("documents", []) if found else [],
                  doc_errors=doc_errors or {}, accept=documents.ACCEPT)


async def _slip(request: Request, session: Session, path: str, fmt: str) -> Response:
    _desk(session)
    fmt = "pdf" if fmt == "pdf" else "html"
    got = await console(request).services.raw("intake", "GET", path, session.token, params={"format": fmt})
    disposition = got.headers.get("Content-Disposition")
    headers = {"Content-Disposition": disposition} if disposition else {}
    return Response(got.content, media_type=got.headers.get("Content-Type", "text/html"), headers=headers)

