"""Reports: Form 06 with CSV / XLSX downloads, indicators with charts, the procedure review, the overdue list.
All from reporting's API with the officer's token (role report_viewer; scoped by reporting itself)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.console.sessions import Session
from services.console.web import TZ, Officer, console, render, require_role

MONTHS = 6  # the on-time chart's months, this one included


def _today(request: Request) -> date:
    return console(request).clock.now().astimezone(TZ).date()


def _period(request: Request, start: date | None, end: date | None) -> tuple[date, date]:
    today = _today(request)
    return start or today.replace(day=1), end or today


def _params(agency: str, start: date, end: date) -> dict[str, str]:
    out = {"from": start.isoformat(), "to": end.isoformat()}
    return {**out, "agency": agency} if agency else out


def _month_starts(end: date, count: int) -> list[tuple[date, date]]:
    first = end.replace(day=1)
    months = []
    for _ in range(count):
        last = min(end, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))
        months.append((first, last))
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(months))


async def _get(request: Request, session: Session, path: str, params: dict[str, str]) -> Any:
    return await console(request).services.json("reporting", "GET", path, session.token, params=params)


def router() -> APIRouter:
    r = APIRouter(prefix="/reports")

    @r.get("")
    async def form_06(request: Request, session: Officer, agency: str = "", start: date | None = None,
                      end: date | None = None) -> Response:
        require_role(session, "report_viewer")
        start, end = _period(request, start, end)
        report = await _get(request, session, "/reports/form-06", _params(agency, start, end))
        return render(request, "reports/form06.html", report=report, agency=agency or session.officer.agency,
                      start=start, end=end, tab="form06")

    @r.get("/form-06.{fmt}")
    async def download(request: Request, session: Officer, fmt: str, agency: str = "", start: date | None = None,
                       end: date | None = None) -> Response:
        require_role(session, "report_viewer")
        start, end = _period(request, start, end)
        params = {**_params(agency, start, end), "format": "xlsx" if fmt == "xlsx" else "csv"}
        got = await console(request).services.raw("reporting", "GET", "/reports/form-06", session.token,
                                                   params=params)
        return Response(got.content, media_type=got.headers.get("Content-Type"),
                        headers={"Content-Disposition": got.headers.get("Content-Disposition", "attachment")})

    @r.get("/indicators")
    async def indicators(request: Request, session: Officer, agency: str = "", start: date | None = None,
                         end: date | None = None) -> Response:
        require_role(session, "report_viewer")
        start, end = _period(request, start, end)
        months = _month_starts(end, MONTHS)
        found = await asyncio.gather(
            _get(request, session, "/indicators", _params(agency, start, end)),
            _get(request, session, "/reports/form-06", _params(agency, start, end)),
            *(_get(request, session, "/indicators", _params(agency, a, b)) for a, b in months),
        )
        current, form, monthly = found[0], found[1], found[2:]
        on_time = [(f"{a.month:02d}/{a.year}", m["rates"]["on_time"]) for (a, _), m in zip(months, monthly,
                                                                                           strict=True)]
        channels = [("Trực tuyến", form["received"]["online"]),
                    ("Trực tiếp, bưu chính", form["received"]["in_person_and_post"])]
        return render(request, "reports/indicators.html", ind=current, on_time=on_time, channels=channels,
                      agency=agency or session.officer.agency, start=start, end=end, tab="indicators")

    @r.get("/review")
    async def review(request: Request, session: Officer, agency: str = "", start: date | None = None,
                     end: date | None = None) -> Response:
        require_role(session, "report_viewer")
        start, end = _period(request, start, end)
        data = await _get(request, session, "/procedures/review", _params(agency, start, end))
        return render(request, "reports/review.html", data=data, agency=agency or session.officer.agency,
                      start=start, end=end, tab="review")

    @r.get("/overdue")
    async def overdue(request: Request, session: Officer, agency: str = "") -> Response:
        require_role(session, "report_viewer")
        data = await _get(request, session, "/overdue", {"agency": agency} if agency else {})
        start, end = _period(request, None, None)
        return render(request, "reports/overdue.html", data=data, agency=agency or session.officer.agency,
                      start=start, end=end, tab="overdue")

    return r
