"""The desk's queue of online submissions (issue 17, docs/domain.md §5.2): list those awaiting the check, open
one, read its files, accept it (the dossier is received then: its code and appointment run from that moment) or
refuse it with a reason. Intake's desk API with the officer's token; the console keeps nothing."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from services.console.client import ServiceError
from services.console.online import STATES
from services.console.pages import documents, forms
from services.console.sessions import Session
from services.console.web import Officer, Poster, console, render, require_role


def _desk(session: Session) -> None:
    require_role(session, "desk_officer")


def router() -> APIRouter:
    r = APIRouter(prefix="/desk/submissions")

    @r.get("")
    async def waiting(request: Request, session: Officer) -> Response:
        _desk(session)
        rows = await console(request).services.json("intake", "GET", "/submissions", session.token,
                                                     params={"state": "awaiting_check"})
        return render(request, "desk/submissions.html", rows=rows, states=STATES)

    @r.get("/{submission_id}")
    async def one(request: Request, session: Officer, submission_id: uuid.UUID) -> Response:
        _desk(session)
        return await _page(request, session, submission_id)

    @r.get("/{submission_id}/documents/{document_id}")
    async def download(request: Request, session: Officer, submission_id: uuid.UUID,
                       document_id: uuid.UUID) -> Response:
        _desk(session)
        got = await console(request).services.stream(
            "intake", "GET", f"/submissions/{submission_id}/documents/{document_id}/content", session.token)
        passed = ("Content-Length", "Content-Disposition", "Content-Encoding")
        headers = {name: got.headers[name] for name in passed if name in got.headers}
        return StreamingResponse(got.aiter_raw(), media_type=got.headers.get("Content-Type"),
                                 headers={**headers, "Cache-Control": "private, no-store"},
                                 background=BackgroundTask(got.aclose))

    @r.post("/{submission_id}/{decision}")
    async def decide(request: Request, session: Poster, submission_id: uuid.UUID, decision: str) -> Response:
        """Accept (the dossier is received now) or refuse with a reason; intake's 409/422 show on the page."""
        _desk(session)
        if decision not in ("acceptance", "refusal"):
            raise ServiceError(404, "Không có thao tác này.")
        form = await request.form()
        body = {"reason": forms.text(form, "reason")} if decision == "refusal" else {}
        try:
            await console(request).services.json("intake", "POST", f"/submissions/{submission_id}/{decision}",
                                                  session.token, json=body)
        except ServiceError as exc:
            if exc.status not in (409, 422):
                raise
            return await _page(request, session, submission_id, error=exc.message, status=exc.status)
        return RedirectResponse(f"/desk/submissions/{submission_id}?done={decision}", status_code=303)

    return r


async def _page(request: Request, session: Session, submission_id: uuid.UUID, error: str = "",
                status: int = 200) -> Response:
    s = await console(request).services.json("intake", "GET", f"/submissions/{submission_id}", session.token)
    return render(request, "desk/submission.html", status=status, s=s, files=documents.shown(s.get("documents") or []),
                  states=STATES, error=error, done=request.query_params.get("done", ""))
