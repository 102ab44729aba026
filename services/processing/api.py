"""HTTP routes of processing: work queues and case details for officers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from sqlmodel import col, select

from libs.runtime import Runtime
from services.processing.store import CaseRow


def _rt(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def router() -> APIRouter:
    r = APIRouter(tags=["cases"])

    @r.get("/cases")
    async def list_cases(
        request: Request,
        agency: str | None = None,
        state: str | None = None,
        due_before: datetime | None = None,
        limit: int = Query(100, le=1000),
    ) -> list[dict[str, Any]]:
        query = select(CaseRow).order_by(col(CaseRow.appointment_at)).limit(limit)
        if agency:
            query = query.where(CaseRow.holder_agency == agency)
        if state:
            query = query.where(CaseRow.state == state)
        if due_before:
            query = query.where(col(CaseRow.appointment_at) < due_before)
        async with _rt(request).sessions() as session:
            rows = (await session.exec(query)).all()
        return [_view(row) for row in rows]

    @r.get("/cases/{code}")
    async def get_case(request: Request, code: str) -> dict[str, Any]:
        async with _rt(request).sessions() as session:
            row = (await session.exec(select(CaseRow).where(CaseRow.code == code))).first()
        if row is None:
            raise HTTPException(404, f"no case with code {code}")
        return _view(row)

    return r


def _view(row: CaseRow) -> dict[str, Any]:
    return row.model_dump(mode="json", exclude={"data"})
