"""Work queue, case page with its actions, and the inter-agency inbox: processing's API with the officer's token."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from services.console.actions import offers
from services.console.client import ServiceError
from services.console.pages import documents, forms, results
from services.console.sessions import Session
from services.console.web import DUE_SOON_SECONDS, TZ, DossierCode, Officer, Poster, console, render, require_role

STATES = {2: "Được tiếp nhận", 4: "Đang xử lý", 5: "Yêu cầu bổ sung", 6: "Yêu cầu nghĩa vụ tài chính",
          9: "Đã xử lý xong"}
CASE_WORKERS = ("desk_officer", "specialist", "department_head")


def router() -> APIRouter:
    r = APIRouter()

    @r.get("/queue")
    async def queue(request: Request, session: Officer, state: str = "", due: str = "", mine: str = "",
                    page: int = 1) -> Response:
        require_role(session, *CASE_WORKERS)
        size, page = console(request).settings.page_size, max(page, 1)
        params: dict[str, Any] = {"held": "true"}
        if state:
            params["state"] = state
        if due in ("overdue", "soon"):
            ahead = DUE_SOON_SECONDS if due == "soon" else 0
            params["due_before"] = (console(request).clock.now() + timedelta(seconds=ahead)).isoformat()
        rows, more = await _page(request, session, params, page, size, only_mine=mine == "1")
        template = "queue/_table.html" if request.headers.get("HX-Request") else "queue/queue.html"
        return render(request, template, cases=rows, more=more, page=page, state=state, due=due, mine=mine,
                      states=STATES)

    @r.get("/inbox")
    async def inbox(request: Request, session: Officer) -> Response:
        require_role(session, *CASE_WORKERS)
        rows = await console(request).services.json("processing", "GET", "/cases", session.token,
                                                     params={"held": "true", "limit": 1000})
        waiting = sorted((c for c in rows if c.get("ack_due_at")), key=lambda c: c["ack_due_at"])
        results = [c for c in rows if c["state"] == 9 and c["holder_agency"] != c["receiving_agency"]]
        # Each entry's scans, asked for together (the inbox is a handful of cases, not the whole queue).
        codes = list(dict.fromkeys(c["code"] for c in waiting + results))
        found = await asyncio.gather(*(documents.manifest(console(request).services, session, code)
                                       for code in codes))
        return render(request, "queue/inbox.html", waiting=waiting, results=results, scans=dict(zip(codes, found,
                                                                                                      strict=True)))

    @r.get("/cases/{code}")
    async def case_page(request: Request, session: Officer, code: DossierCode) -> Response:
        require_role(session, *CASE_WORKERS)
        return await _case(request, session, code)

    @r.post("/cases/{code}/actions")
    async def act(request: Request, session: Poster, code: DossierCode) -> Response:
        require_role(session, *CASE_WORKERS)
        form = await request.form()
        action = forms.text(form, "action")
        electronic = action in results.ELECTRONIC_ACTIONS and form.get("electronic") == "on"
        try:
            body = {"action": action, **_params(form), **({"electronic": True} if electronic else {})}
            await console(request).services.json("processing", "POST", f"/cases/{code}/actions", session.token,
                                                  json=body)
        except ValueError as exc:
            return await _case(request, session, code, error=f"Thời hạn mới không hợp lệ: {exc}", status=422)
        except ServiceError as exc:
            if exc.status not in (403, 409, 422):
                raise
            reason = results.action_refusal(action, electronic, exc)
            return await _case(request, session, code, error=reason, status=exc.status)
        back = forms.text(form, "back")
        target = back if back in ("/inbox", "/queue") else f"/cases/{code}?done={action}"
        return RedirectResponse(target, status_code=303)

    @r.post("/cases/{code}/result")
    async def attach_result(request: Request, session: Poster, code: DossierCode) -> Response:
        """The signed result PDF, streamed on to intake; its refusal shows beside the upload form."""
        require_role(session, *results.UPLOADERS)
        c = console(request)
        file = (await request.form()).get("file")  # parsed by the CSRF check already; spooled, not in memory
        if not isinstance(file, UploadFile):
            reason: str | None = "Chưa chọn tệp."
        else:
            reason = await results.attach(c.services, session, code, file, c.settings.upload_file_max_bytes)
        if reason:
            return await _case(request, session, code, result_error=reason, status=422)
        return RedirectResponse(f"/cases/{code}?done=result#result-h", status_code=303)

    return r


# "My role's cases" filters on the current step's role, which processing's list does not filter on: it reads
# this many of the agency's held cases (most urgent first) and pages within them.
MINE_WINDOW = 1000


async def _page(request: Request, session: Session, params: dict[str, Any], page: int, size: int,
                only_mine: bool) -> tuple[list[dict[str, Any]], bool]:
    """One page of the agency's held cases, each marked `mine` when its current step is for the officer's role."""
    services, procedures = console(request).services, console(request).procedures
    window = {"limit": MINE_WINDOW, "offset": 0} if only_mine else {"limit": size + 1, "offset": (page - 1) * size}
    rows = await services.json("processing", "GET", "/cases", session.token, params={**params, **window})
    for row in rows:
        role = await procedures.step_role(row["procedure_code"], row.get("step_code"))
        row["mine"] = role is not None and session.officer.has(role)
    if only_mine:
        rows = [r for r in rows if r["mine"]][(page - 1) * size:]
    return rows[:size], len(rows) > size


def _params(form: FormData) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("note", "reason", "officer", "step_code"):
        if forms.text(form, name):
            out[name] = forms.text(form, name)
    # The version the page showed: processing refuses (409, saying what and by whom) an action decided on a
    # case another officer changed since; the system's own changes (sweep, the desk's events) do not count.
    if forms.text(form, "seen_version").isdigit():
        out["seen_version"] = int(forms.text(form, "seen_version"))
    if forms.lines(form, "items"):
        out["items"] = forms.lines(form, "items")
    if forms.text(form, "new_due"):
        out["new_due"] = datetime.fromisoformat(forms.text(form, "new_due")).replace(tzinfo=TZ).isoformat()
    return out


async def _case(request: Request, session: Session, code: str, error: str = "", status: int = 200,
                result_error: str = "") -> Response:
    services = console(request).services
    case = await services.json("processing", "GET", f"/cases/{code}", session.token)
    scans = await documents.manifest(services, session, code)
    officer = session.officer
    return render(request, "queue/case.html", status=status, case=case, offers=offers(case, officer),
                  error=error, done=request.query_params.get("done", ""), scans=scans,
                  result=results.attached(case), result_files=[s for s in scans or [] if s["is_result"]],
                  may_attach=results.may_attach(case, officer.roles, officer.agency), result_error=result_error)
