"""HTTP routes of reporting: Form 06 (Biểu 06) and indicators."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from sqlmodel import col, func, select

from libs.runtime import Runtime
from services.reporting.store import ReceivedDaily


def router() -> APIRouter:
    r = APIRouter(tags=["reports"])

    @r.get("/reports/form-06")
    async def form_06(
        request: Request,
        agency: str,
        start: date = Query(alias="from"),
        end: date = Query(alias="to"),
    ) -> dict[str, Any]:
        if end < start:
            raise HTTPException(400, "'to' must not be before 'from'")
        rt: Runtime = request.app.state.runtime
        received = await received_columns(rt, agency, start, end)
        return {"agency": agency, "from": start.isoformat(), "to": end.isoformat(), "received": received}

    return r


async def received_columns(rt: Runtime, agency: str, start: date, end: date) -> dict[str, int]:
    """Form 06 columns 4–5 (received in the period, by channel; post counts with in person)."""
    query = (
        select(ReceivedDaily.channel, func.sum(ReceivedDaily.count))
        .where(ReceivedDaily.agency == agency, col(ReceivedDaily.day) >= start, col(ReceivedDaily.day) <= end)
        .group_by(ReceivedDaily.channel)
    )
    async with rt.sessions() as session:
        by_channel = {ch: int(n) for ch, n in (await session.exec(query)).all()}
    online = by_channel.get("online", 0)
    direct = by_channel.get("in_person", 0) + by_channel.get("post", 0)
    return {"online": online, "in_person_and_post": direct, "received_new": online + direct}
