"""HTTP routes of notifications: the notice log for officers (contacts masked), retry, template preview
(the use cases: notice_log.py; the preview renders straight from the domain)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request

from libs.auth import Officer
from libs.auth.fastapi import require
from libs.observability import mask_pii
from libs.runtime.answers import answers
from services.notifications.domain import (
    Channel,
    IllegalTransitionError,
    NoticeKind,
    message_id,
    render,
    sample_context,
)
from services.notifications.notice_log import NotAtAgency
from services.notifications.store import NoticeRow

OfficerDep = Annotated[Officer, Depends(require("desk_officer", "specialist", "department_head", "admin"))]


def _service(request: Request) -> Any:
    return request.app.state.notifications


def router() -> APIRouter:
    r = APIRouter(tags=["notices"])

    @r.get("/notices", responses=answers(401, 403, 404, 422, why={404: "no such dossier at the officer's agency"}))
    async def list_notices(request: Request, dossier: str, officer: OfficerDep) -> list[dict[str, Any]]:
        """Notices of one dossier (by code), for officers of the agency that received it."""
        svc = _service(request)
        rows = await svc.log.of_dossier(dossier, officer.agency)
        if rows is None:
            raise HTTPException(404, f"no dossier {dossier} at agency {officer.agency}")
        domain = svc.config.email.message_id_domain
        return [_out(row, domain) for row in rows]

    @r.post("/notices/{notice_id}/retry", responses=answers(401, 403, 404, 409, 422, why={
        404: "no such notice at the officer's agency", 409: "the notice is not in a state that may be retried"}))
    async def retry(request: Request, notice_id: UUID, officer: OfficerDep) -> dict[str, Any]:
        """Send a notice again now, with a fresh retry window (a technical or temporary failure)."""
        svc = _service(request)
        try:
            row = await svc.log.retry(notice_id, officer.agency)
        except NotAtAgency as exc:
            raise HTTPException(404, f"no notice {notice_id} at agency {officer.agency}") from exc
        except IllegalTransitionError as exc:
            raise HTTPException(409, f"cannot retry a notice that is {exc.current.value}") from exc
        except RuntimeError as exc:
            raise HTTPException(409, str(exc)) from exc
        if row is None:
            raise HTTPException(404, f"no notice {notice_id}")
        return _out(row, svc.config.email.message_id_domain)

    @r.get("/templates/{event}/preview", responses=answers(404, 422, why={404: "no template for this event and "
                                                                                  "channel"}))
    async def preview(event: str, channel: str = "email") -> dict[str, Any]:
        """A notice kind rendered with sample data (no personal data involved)."""
        if event not in {k.value for k in NoticeKind} or channel not in {c.value for c in Channel}:
            raise HTTPException(404, f"no template {event}/{channel}")
        notice = render(event, channel, sample_context(event))
        return {"event": event, "channel": channel, "subject": notice.subject, "text": notice.text,
                "html": notice.html, "parts": notice.parts}

    return r


def _out(row: NoticeRow, message_id_domain: str) -> dict[str, Any]:
    data = row.model_dump(mode="json", exclude={"context", "recipient", "reason"})
    data["recipient"] = mask_pii(row.recipient)
    data["reason"] = mask_pii(row.reason) if row.reason else None
    data["message_id"] = message_id(row.key, message_id_domain) if row.channel == Channel.EMAIL else None
    return data
