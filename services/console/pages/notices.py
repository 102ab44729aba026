"""Notices of a dossier (what was sent, how, when, with what outcome) and, for admins, a retry."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.client import ServiceError
from services.console.web import Officer, Poster, console, render, require_role

CHANNELS = {"sms": "Tin nhắn SMS", "email": "Thư điện tử", "zalo": "Zalo"}
OFFICERS = ("desk_officer", "specialist", "department_head")


def router() -> APIRouter:
    r = APIRouter()

    @r.get("/notices/{code}")
    async def notices(request: Request, session: Officer, code: str, error: str = "") -> Response:
        require_role(session, *OFFICERS)
        rows = await console(request).services.json("notifications", "GET", "/notices", session.token,
                                                     params={"dossier": code})
        return render(request, "notices.html", code=code, notices=rows, channels=CHANNELS, error=error,
                      can_retry="admin" in session.officer.roles)

    @r.post("/notices/{code}/{notice_id}/retry")
    async def retry(request: Request, session: Poster, code: str, notice_id: uuid.UUID) -> Response:
        require_role(session, "admin")
        try:
            await console(request).services.json("notifications", "POST", f"/notices/{notice_id}/retry",
                                                  session.token)
        except ServiceError as exc:
            if exc.status != 409:
                raise
            return await notices(request, session, code, error=exc.message)
        return RedirectResponse(f"/notices/{code}", status_code=303)

    return r
