"""HTTP routes of notifications: the notice log for officers (contacts masked)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import col, select

from libs.observability import mask_pii
from libs.runtime import Runtime
from services.notifications.store import NoticeRow


def router() -> APIRouter:
    r = APIRouter(tags=["notices"])

    @r.get("/notices")
    async def list_notices(request: Request, dossier: str) -> list[dict[str, Any]]:
        rt: Runtime = request.app.state.runtime
        query = select(NoticeRow).where(NoticeRow.code == dossier).order_by(col(NoticeRow.created_at))
        async with rt.sessions() as session:
            rows = (await session.exec(query)).all()
        return [{**row.model_dump(mode="json"), "recipient": mask_pii(row.recipient)} for row in rows]

    return r
