"""HTTP routes of the desk (Bộ phận Một cửa) and the citizen's public look-up. Thin: validate, call, respond.

Every desk route needs a desk officer's bearer token (401 without one, 403 with another role) and sees
only the officer's own agency (an admin's too; only `province_admin` sees every agency's): another agency's
dossier answers 404 exactly like a code that does not exist."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC
from typing import Annotated, Any, Literal, NoReturn

import structlog
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPBearer

from libs.auth import Officer
from libs.auth.fastapi import current_officer
from libs.catalogue import CatalogueError
from libs.runtime.answers import answers, documents
from libs.runtime.params import Day
from services.intake import paperwork
from services.intake.desk import Desk, IdempotencyConflict, NotFound
from services.intake.domain.desk import IllegalMove, InvalidInput
from services.intake.domain.lookup import PublicStatus
from services.intake.domain.states import DeskState
from services.intake.paperwork import FormUnavailable
from services.intake.ratelimit import LookupLimits, client_address
from services.intake.schemas import (
    DossierIn,
    DossierOut,
    HandoverIn,
    HistoryOut,
    LookupOut,
    PaperRequestIn,
    PaperRequestOut,
    RatingIn,
    RefusalIn,
    SupplementIn,
    WithdrawalIn,
)
from services.intake.slips import PdfUnavailable, render_html, render_pdf
from services.intake.store.tables import DossierRow, PaperRequestRow
from services.intake.texts import label, next_step_text


class _Officers(HTTPBearer):
    """`libs.auth.fastapi.require(*roles)` as one dependency instead of three nested ones (require → current_officer
    → HTTPBearer): FastAPI solves each level per request. Same answers (401 without or with a bad token, 403
    without one of the roles) and the same bearer scheme in the OpenAPI document."""

    def __init__(self, *roles: str) -> None:
        super().__init__(auto_error=False, scheme_name="HTTPBearer")
        self.roles = roles

    async def __call__(self, request: Request) -> Officer:  # type: ignore[override]
        officer = await current_officer(request, await super().__call__(request))
        if not officer.has(*self.roles):
            raise HTTPException(403, f"this action needs one of the roles: {', '.join(self.roles)}")
        return officer


DeskOfficer = Annotated[Officer, Depends(_Officers("desk_officer"))]
BookReader = Annotated[Officer, Depends(_Officers("desk_officer", "report_viewer"))]
IdempotencyKey = Annotated[str | None, Header(max_length=200)]
Format = Literal["html", "pdf"]
HTML, PDF = "text/html", "application/pdf"
# Every desk route: no or a bad token (401), not a desk officer (403), a malformed request (422).
DESK = (401, 403, 422)
BODY = (400, 413)  # a route with a JSON body: not JSON text (400), or too large (413)
REPLAYED = {"Idempotent-Replayed": {"description": "`true`: this answers an earlier request with the same key",
                                    "schema": {"type": "string", "enum": ["true"]}, "required": True}}


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


@asynccontextmanager
async def _errors(code: str = "") -> AsyncIterator[None]:
    """Domain and service errors → HTTP answers with the reason."""
    try:
        yield
    except NotFound as exc:
        raise HTTPException(404, f"no dossier with code {code}" if code else str(exc)) from exc
    except (IllegalMove, IdempotencyConflict) as exc:
        status = 409 if isinstance(exc, IllegalMove) else 422
        raise HTTPException(status, str(exc)) from exc
    except (InvalidInput, CatalogueError) as exc:
        raise HTTPException(422, str(exc)) from exc
    except FormUnavailable as exc:
        raise HTTPException(404, str(exc)) from exc
    except PdfUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc


def _receiving_agency(officer: Officer, requested: str | None) -> str:
    """The officer's own agency; naming another one is for the province-wide role only (who may then see it)."""
    if requested is None or requested == officer.agency:
        return officer.agency
    if officer.province_wide:
        return requested
    raise HTTPException(403, "a desk officer receives dossiers for their own agency only")


def _registering(what: str) -> dict[int | str, dict[str, Any]]:
    """The answers of a receipt or a refusal: both register a dossier, once per Idempotency-Key."""
    return {
        200: {"model": DossierOut, "headers": REPLAYED,
              "description": f"a repeat of an earlier {what} with this Idempotency-Key: that dossier again"},
        **answers(*DESK, *BODY, why={
            403: "the officer's roles, or another agency named in `receiving_agency`",
            422: "malformed, a procedure not in force today, or this Idempotency-Key used before with another body"}),
    }


def router() -> APIRouter:
    r = APIRouter(tags=["desk"])

    @r.get("/procedures")
    async def procedures(request: Request) -> list[dict[str, Any]]:
        desk = _desk(request)
        today = desk.clock.now().date()
        return [v.model_dump(mode="json") for v in desk.catalogue.procedures(today)]

    @r.post("/dossiers", status_code=201, response_model=DossierOut, responses=_registering("receipt"))
    async def receive(
        request: Request, response: Response, body: DossierIn, officer: DeskOfficer,
        idempotency_key: IdempotencyKey = None,
    ) -> DossierOut:
        """Receive a complete dossier (Form 01); the code comes from the agency's daily sequence."""
        agency = _receiving_agency(officer, body.receiving_agency)
        async with _errors():
            row, created = await _desk(request).receive(body, agency, idempotency_key, officer)
        return _created(response, row, created)

    @r.post("/dossiers/refusals", status_code=201, response_model=DossierOut, responses=_registering("refusal"))
    async def refuse(
        request: Request, response: Response, body: RefusalIn, officer: DeskOfficer,
        idempotency_key: IdempotencyKey = None,
    ) -> DossierOut:
        """Refuse at the desk (Form 03): the dossier still gets its one code, in state refused (3)."""
        agency = _receiving_agency(officer, body.receiving_agency)
        dossier = DossierIn.model_validate(body.model_dump(exclude={"reason"}))
        async with _errors():
            row, created = await _desk(request).refuse(dossier, body.reason, agency, idempotency_key, officer)
        return _created(response, row, created)

    @r.post("/paper-requests", status_code=201, response_model=PaperRequestOut, responses=answers(*DESK, *BODY))
    async def request_papers(request: Request, body: PaperRequestIn, officer: DeskOfficer) -> PaperRequestOut:
        """Form 02 at the counter before acceptance: papers are missing, nothing enters the workflow."""
        async with _errors():
            row = await _desk(request).request_papers(body, officer.agency, officer)
        return _paper_out(row)

    @r.get("/paper-requests/{request_id}/slip", response_class=Response,
           responses={**documents(HTML, PDF), **answers(*DESK, 404)})
    async def paper_request_slip(
        request: Request, request_id: uuid.UUID, officer: DeskOfficer, format: Format = "html"
    ) -> Response:
        desk = _desk(request)
        async with _errors():
            row = await desk.paper_request(request_id, officer)
            template, context = paperwork.paper_request_form(row, desk.catalogue)
            return await _document(template, context, format, f"phieu-02-{row.id}")

    @r.get("/dossiers/{code}", response_model=DossierOut, responses=answers(*DESK, 404))
    async def get_dossier(request: Request, code: str, officer: DeskOfficer) -> DossierOut:
        async with _errors(code):
            row, _ = await _desk(request).dossier(code, officer)
        return _out(row)

    @r.get("/dossiers/{code}/history", response_model=list[HistoryOut], responses=answers(*DESK, 404))
    async def history(request: Request, code: str, officer: DeskOfficer) -> list[HistoryOut]:
        async with _errors(code):
            _, rows = await _desk(request).dossier(code, officer)
        return [HistoryOut.model_validate(h, from_attributes=True) for h in rows]

    @r.post("/dossiers/{code}/supplements", response_model=DossierOut, responses=answers(*DESK, *BODY, 404, 409))
    async def supplements(request: Request, code: str, body: SupplementIn, officer: DeskOfficer) -> DossierOut:
        """The citizen hands in the papers a supplement request (Form 02) asked for."""
        async with _errors(code):
            row = await _desk(request).hand_in_supplement(code, officer, body.documents, body.note)
        return _out(row)

    @r.post("/dossiers/{code}/withdrawal", response_model=DossierOut, responses=answers(*DESK, *BODY, 404, 409))
    async def withdrawal(request: Request, code: str, body: WithdrawalIn, officer: DeskOfficer) -> DossierOut:
        """The applicant withdraws the dossier (rút hồ sơ)."""
        async with _errors(code):
            row = await _desk(request).withdraw(code, officer, body.reason)
        return _out(row)

    @r.post("/dossiers/{code}/handover", response_model=DossierOut, responses=answers(*DESK, *BODY, 404, 409))
    async def handover(request: Request, code: str, body: HandoverIn, officer: DeskOfficer) -> DossierOut:
        """Hand the result to the citizen or send it by post; only once processing put it at this desk."""
        async with _errors(code):
            row = await _desk(request).hand_over(code, officer, body.method)
        return _out(row)

    @r.post("/dossiers/{code}/rating", status_code=201, response_model=DossierOut,
            responses=answers(*DESK, *BODY, 404, 409, why={409: "the dossier may not be rated now (e.g. it is rated "
                                                                 "already)"}))
    async def rating(request: Request, code: str, body: RatingIn, officer: DeskOfficer) -> DossierOut:
        """The applicant's one satisfaction rating, 1–5 (recorded at the desk); a second one is 409."""
        async with _errors(code):
            row = await _desk(request).rate(code, officer, body.rating, body.comment)
        return _out(row)

    @r.get("/dossiers/{code}/slips/{form}", response_class=Response,
           responses={**documents(HTML, PDF), **answers(*DESK, 404, why={404: "no such dossier or form"})})
    async def slip(request: Request, code: str, form: str, officer: DeskOfficer, format: Format = "html") -> Response:
        """Forms `receipt` (01), `supplement` (02), `refusal` (03), `apology` (04), `control` (phiếu kiểm soát)."""
        desk = _desk(request)
        async with _errors(code):
            row, history_rows = await desk.dossier(code, officer)
            template, context = paperwork.dossier_form(form, row, history_rows, desk.catalogue, desk.clock.now())
            return await _document(template, context, format, f"{template}-{row.code}")

    @r.get("/tracking-book", response_model=None, responses={
        **documents(HTML, PDF),  # the JSON book is the route's own 200 (format=json)
        **answers(*DESK, why={403: "the officer's roles, or another agency's book"})})
    async def tracking_book(
        request: Request,
        officer: BookReader,
        start: Annotated[Day, Query(alias="from")],
        end: Annotated[Day, Query(alias="to", description="not before `from`, at most 366 days in all")],
        agency: str | None = None,
        format: Literal["json", "html", "pdf"] = "json",
    ) -> Response | list[dict[str, Any]]:
        """Sổ theo dõi hồ sơ: the dossiers the agency received (or refused) on the local days from..to."""
        desk = _desk(request)
        if agency not in (None, officer.agency) and not officer.province_wide:
            raise HTTPException(403, "officers read the tracking book of their own agency only")
        eid = agency or officer.agency
        async with _errors():
            rows = await desk.tracking_book(eid, start, end)
            if format == "json":
                return paperwork.tracking_json(rows)
            template, context = paperwork.tracking_book(eid, start, end, rows, desk.catalogue, desk.clock.now())
            return await _document(template, context, format, f"so-theo-doi-{eid}-{start}-{end}")

    return r


def public_router() -> APIRouter:
    r = APIRouter(tags=["public"])

    @r.get("/public/lookup", response_model=LookupOut, responses=answers(404, 422, 429, why={
        404: "no dossier matches this code and these digits"}))
    async def lookup(
        request: Request,
        code: Annotated[str, Query(min_length=1, max_length=64)],
        id_last4: Annotated[str, Query(pattern=r"^\d{4}$")],
    ) -> LookupOut:
        """The citizen's status look-up: dossier code + last 4 digits of the personal ID; no personal data.
        Limited per client address and per dossier code (failed look-ups): see services/intake/ratelimit.py."""
        limits: LookupLimits = request.app.state.lookup_limit
        peer = request.client.host if request.client else None
        client = client_address(peer, request.headers.getlist("x-forwarded-for"), limits.trusted)
        now = time.monotonic()
        if (wait := limits.clients.take(client, now)) > 0:
            _limited(request, wait, "too many look-ups from this address; try again later")
        if (wait := limits.codes.take(code, now)) > 0:
            _limited(request, wait, "too many failed look-ups of this dossier code; try again later or ask at the desk")
        status = await _desk(request).lookup(code, id_last4)
        if status is None:  # the code's token stays spent: a failed attempt counts
            request.app.state.lookups.labels("intake", "not_found").inc()
            raise HTTPException(404, "no dossier matches this code and these digits")
        limits.codes.give_back(code, time.monotonic())  # the owner's look-ups never wear the code's limit down
        request.app.state.lookups.labels("intake", "found").inc()
        return _lookup_out(status)

    return r


def _limited(request: Request, wait: float, reason: str) -> NoReturn:
    request.app.state.lookups.labels("intake", "limited").inc()
    raise HTTPException(429, reason, headers={"Retry-After": str(math.ceil(wait))})


async def _document(template: str, context: dict[str, Any], fmt: str, filename: str) -> Response:
    html = render_html(template, context)
    if fmt == "pdf":
        pdf = await render_pdf(html)
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{filename}.pdf"'})
    return HTMLResponse(html)


def _created(response: Response, row: DossierRow, created: bool) -> DossierOut:
    structlog.contextvars.bind_contextvars(dossier=row.code)  # the code exists only from here on
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return _out(row)


def _out(row: DossierRow) -> DossierOut:
    return DossierOut(
        id=str(row.id), code=row.code, state=row.state, receiving_agency=row.receiving_agency,
        procedure_code=row.procedure_code, procedure_name=row.procedure.get("name", ""),
        channel=row.channel, received_at=row.received_at.astimezone(UTC),
        appointment_at=row.appointment_at.astimezone(UTC) if row.appointment_at else None,
        state_code=DeskState(row.state).code, state_label=label("states", row.state), sub_state=row.sub_state,
        current_step=row.current_step, result_at_desk=row.result_at_desk, refusal_reason=row.refusal_reason,
        received_by=row.received_by, handover_method=row.handover_method, handed_over_at=row.handed_over_at,
        rating=row.rating, rated_at=row.rated_at, closed_at=row.closed_at,
    )


def _paper_out(row: PaperRequestRow) -> PaperRequestOut:
    return PaperRequestOut(
        id=str(row.id), agency=row.agency, procedure_code=row.procedure_code, procedure_name=row.procedure_name,
        items=row.items, reason=row.reason, issued_at=row.issued_at,
        slip_url=f"/api/v1/paper-requests/{row.id}/slip",
    )


def _lookup_out(s: PublicStatus) -> LookupOut:
    return LookupOut(
        code=s.code, state=s.state.value, state_code=s.state.code, state_label=label("states", s.state.value),
        procedure_name=s.procedure_name, received_at=s.received_at, appointment_at=s.appointment_at,
        current_step=s.current_step, next_step=next_step_text(s.next_step, s.appointment_at),
        result_ready=s.result_ready, rated=s.rated, updated_at=s.updated_at,
    )
