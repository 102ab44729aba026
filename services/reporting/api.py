"""HTTP routes of reporting: Form 06 (Biểu 06) as JSON / CSV / XLSX, indicators, procedure review, overdue.

Officers only (bearer JWT, role report_viewer or admin), scoped to their agency and the agencies below
it; a report on any other agency is answered 404 (it does not exist for this officer)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from libs.auth import Officer
from libs.auth.fastapi import require
from libs.catalogue import Catalogue, NotInCatalogueError
from libs.runtime import Runtime
from libs.runtime.answers import answers, documents
from libs.runtime.params import Day, LocalMoment
from services.reporting.domain.certifications import Certifications
from services.reporting.exports import form06_csv, form06_json, form06_xlsx
from services.reporting.reports import Period, Reports, rates_json

Viewer = Annotated[Officer, Depends(require("report_viewer"))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _descendants(catalogue: Catalogue, eid: str) -> set[str]:
    try:
        return {a.eid for a in catalogue.descendants(eid)}
    except NotInCatalogueError:
        return {eid}


def _scope(request: Request, officer: Officer, agency: str | None) -> tuple[str, set[str]]:
    """The agency asked for (default: the officer's own) and the agencies its reports cover."""
    catalogue: Catalogue = request.app.state.catalogue
    wanted = agency or officer.agency
    if wanted not in _descendants(catalogue, officer.agency):
        raise HTTPException(404, f"no agency {wanted!r} within {officer.agency}")
    return wanted, _descendants(catalogue, wanted)


def _agency_name(request: Request, eid: str) -> str:
    try:
        return str(request.app.state.catalogue.agency(eid).name)
    except NotInCatalogueError:
        return eid


def _period(request: Request, start: date, end: date, as_of: datetime | None) -> Period:
    reports: Reports = request.app.state.reports
    rt: Runtime = request.app.state.runtime
    if end < start:
        raise HTTPException(422, "'to' must not be before 'from'")
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=ZoneInfo(reports.rules.timezone))  # a wall-clock time is local
    period = Period.of_days(start, end, reports.tz, as_of or rt.clock.now())
    if period.as_of is not None and period.as_of < period.start:
        if as_of is not None:
            raise HTTPException(422, "as_of is before the period starts: nothing is known about it yet")
        # A period still to come, as of now: nothing is known about it yet, so every count is 0 (not a refusal
        # that names an as_of the caller never gave).
        period = Period(period.start, period.end, period.start)
    return period


From = Annotated[Day, Query(alias="from", description="first day (local), e.g. 2024-03-01")]
To = Annotated[Day, Query(alias="to", description="last day (local, included; not before `from`), e.g. 2024-03-31")]
AsOf = Annotated[LocalMoment | None, Query(description="count only what was known then (default: now; not before "
                                                       "`from`)")]


def router() -> APIRouter:
    # Every route: a report viewer (401, 403) of the agency or one above it (404), a well-formed period (422).
    r = APIRouter(tags=["reports"], responses=answers(401, 403, 404, 422, why={
        404: "no such agency at or below the officer's own"}))

    @r.get("/reports/form-06", response_model=None, responses={**documents("text/csv", XLSX), **answers(409, why={
        409: "method=fast, and the fast path cannot count here now (it needs PostgreSQL and rollups with the "
             "current rules)"})})
    async def form_06(request: Request, officer: Viewer, start: From, end: To, agency: str | None = None,
                      as_of: AsOf = None, format: Literal["json", "csv", "xlsx"] = "json",
                      method: Literal["auto", "fast", "reference"] = "auto") -> Response | dict[str, Any]:
        """Biểu số 06: received / resolved / pending dossiers by level and field (13 columns)."""
        eid, agencies = _scope(request, officer, agency)
        period = _period(request, start, end, as_of)
        reports: Reports = request.app.state.reports
        try:
            form, counted_by = await reports.form06(agencies, period, method=method)
        except ValueError as exc:  # method=fast where the fast path cannot count this period: not the request's fault
            raise HTTPException(409 if method == "fast" else 422, str(exc)) from exc
        name = f"bieu-06_{eid}_{start.isoformat()}_{end.isoformat()}"
        if format == "csv":
            return Response(form06_csv(form), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
        if format == "xlsx":
            return Response(form06_xlsx(form, _agency_name(request, eid)), media_type=XLSX,
                            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
        total = form.total
        return {
            "agency": eid, "agency_name": _agency_name(request, eid),
            "from": start.isoformat(), "to": end.isoformat(), "counted_by": counted_by,
            **form06_json(form),
            # Columns 4–5 under the names of the first release (received in the period; post with in person).
            "received": {"online": total.received_online, "in_person_and_post": total.received_in_person,
                         "received_new": total.received_online + total.received_in_person},
        }

    @r.get("/indicators")
    async def get_indicators(request: Request, officer: Viewer, start: From, end: To, agency: str | None = None,
                             as_of: AsOf = None) -> dict[str, Any]:
        """Decision 766-style indicators; times in working hours."""
        eid, agencies = _scope(request, officer, agency)
        period = _period(request, start, end, as_of)
        ind = await request.app.state.reports.indicators(agencies, period)
        return {
            "agency": eid, "from": start.isoformat(), "to": end.isoformat(), "cutoff": ind.cutoff.isoformat(),
            "received": ind.received, "resolved": ind.resolved, "rates": rates_json(ind),
            "resolved_late": ind.resolved_late, "pending_overdue": ind.pending_overdue,
            "overdue_total": ind.overdue_total, "time_basis": "working hours",
            "processing_times": [asdict(p) for p in ind.processing_times],
            "scores": [asdict(s) for s in ind.scores],
        }

    @r.get("/reports/certifications")
    async def certifications(request: Request, officer: Viewer, start: From, end: To,
                             agency: str | None = None) -> dict[str, Any]:
        """Certification acts (one number in a book) and copies, on paper and electronic, per agency at or below
        the one asked for, and the e-certification rate = electronic acts / all acts (docs/domain.md §4.2)."""
        eid, agencies = _scope(request, officer, agency)
        period = _period(request, start, end, None)
        found = await request.app.state.reports.certifications(agencies, period)
        total = Certifications()
        for one in found.values():
            total = total.add("paper", one.paper.acts, one.paper.copies).add(
                "electronic", one.electronic.acts, one.electronic.copies)
        return {"agency": eid, "from": start.isoformat(), "to": end.isoformat(), "total": _certified(total),
                "agencies": [{"agency": a, "agency_name": _agency_name(request, a), **_certified(c)}
                             for a, c in sorted(found.items())]}

    @r.get("/procedures/review")
    async def review(request: Request, officer: Viewer, start: From, end: To, agency: str | None = None,
                     as_of: AsOf = None) -> dict[str, Any]:
        """Per procedure: volume, supplement requests, time used vs the limit (working hours), late share."""
        eid, agencies = _scope(request, officer, agency)
        period = _period(request, start, end, as_of)
        lines = await request.app.state.reports.review(agencies, period)

        def rate(x: Any) -> dict[str, Any]:
            return {"numerator": x.numerator, "denominator": x.denominator, "percent": x.percent()}

        return {"agency": eid, "from": start.isoformat(), "to": end.isoformat(), "time_basis": "working hours",
                "procedures": [{**asdict(line), "over_limit": rate(line.over_limit),
                                "with_supplement": rate(line.with_supplement), "late": rate(line.late)}
                               for line in lines]}

    @r.get("/overdue")
    async def overdue(request: Request, officer: Viewer, agency: str | None = None) -> dict[str, Any]:
        """Dossiers still pending past their appointment now (đang giải quyết quá hạn)."""
        eid, agencies = _scope(request, officer, agency)
        rt: Runtime = request.app.state.runtime
        now = rt.clock.now()
        found = await request.app.state.reports.overdue(agencies, now)
        return {"agency": eid, "as_of": now.isoformat(), "count": len(found), "dossiers": [
            {"code": s.code, "procedure_code": s.procedure_code, "procedure_name": s.procedure_name,
             "field": s.field, "receiving_agency": s.receiving_agency, "competent_agency": s.competent_agency,
             "received_at": _iso(s.received_at), "appointment_at": _iso(s.appointment_at),
             "extended_appointment_at": _iso(s.extended_appointment_at), "case_state": s.case_state,
             "overdue_working_hours": round(hours, 2)} for s, hours in found]}

    return r


def _certified(c: Certifications) -> dict[str, Any]:
    rate = c.e_certification
    return {"paper": asdict(c.paper), "electronic": asdict(c.electronic),
            "e_certification_rate": {"numerator": rate.numerator, "denominator": rate.denominator,
                                     "percent": rate.percent()}}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
