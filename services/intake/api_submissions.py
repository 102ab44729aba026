"""HTTP routes of online submission (docs/domain.md §5.2). Thin: validate, call `Submissions`, respond.

Public (`/public/submissions…`): a citizen (anonymous, limited per client address like the look-up) or the portal
(a bearer token with the role `portal`) files a dossier, then uploads its files with the upload token the filing
answered; the citizen reads its status with the last 4 digits of the personal ID. Desk (`/submissions…`): the
desk officers of the receiving agency list, read, accept or refuse; another agency's submission is 404."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from libs.auth import Officer
from libs.auth.fastapi import current_officer
from libs.auth.tokens import PORTAL
from libs.runtime.answers import answers, documents
from services.intake.api import DESK, REPLAYED, DeskOfficer, _created, _errors
from services.intake.api_documents import EXTENSIONS, RAW_BODY, TOO_LARGE, UNSUPPORTED, DocumentOut, UploadKey
from services.intake.api_documents import _errors as _upload_errors
from services.intake.documents import Upload
from services.intake.domain.submissions import SubmissionState
from services.intake.ratelimit import LookupLimits, TokenBuckets, client_address
from services.intake.schemas import DossierOut
from services.intake.store.tables import DocumentRow
from services.intake.submission_schemas import (
    ApplicantOut,
    DeclaredPaperOut,
    SubmissionDeskOut,
    SubmissionIn,
    SubmissionOut,
    SubmissionRefusalIn,
    SubmissionStatusOut,
)
from services.intake.submissions import Submissions, SubmissionView

UPLOAD_PATH = r"/api/v1/public/submissions/[^/]+/documents"  # the route whose body may pass the 1 MiB bound
FilingKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                                  description="names this one submission: a repeat answers the same submission")]
SubmissionToken = Annotated[str | None, Header(alias="X-Submission-Token", max_length=200,
                                               description="the upload_token the submission answered")]
Item = Annotated[int, Query(ge=1, le=100, description="1-based position of the paper in the procedure version's "
                                                      "checklist")]
_portal_bearer = HTTPBearer(auto_error=False, scheme_name="HTTPBearer")
OPTIONAL_BEARER: dict[str, Any] = {"security": [{}]}  # added to the scheme FastAPI lists: either may be used


def _submissions(request: Request) -> Submissions:
    found: Submissions = request.app.state.submissions
    return found


async def _portal(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                          Depends(_portal_bearer)]) -> Officer | None:
    """The portal's machine client when a bearer token is sent (it must hold the role `portal`); else a citizen."""
    if credentials is None:
        return None
    client = await current_officer(request, credentials)
    if not client.has(PORTAL):
        raise HTTPException(403, "only the portal's client files submissions with a token")
    return client


def _limit(request: Request, buckets: TokenBuckets, reason: str) -> None:
    """Per client address, like the look-up (ratelimit.py)."""
    trusted = request.app.state.lookup_limit.trusted
    peer = request.client.host if request.client else None
    client = client_address(peer, request.headers.getlist("x-forwarded-for"), trusted)
    if (wait := buckets.take(client, time.monotonic())) > 0:
        _limited(wait, reason)


def _limited(wait: float, reason: str) -> NoReturn:
    raise HTTPException(429, reason, headers={"Retry-After": str(max(1, round(wait + 0.5)))})


def public_router() -> APIRouter:
    r = APIRouter(tags=["public"])

    # The bearer token is optional here (a citizen sends none): `{}` beside the scheme says so in the document.
    @r.post("/public/submissions", status_code=201, response_model=SubmissionOut, openapi_extra=OPTIONAL_BEARER,
            responses={
        200: {"model": SubmissionOut, "headers": REPLAYED,
              "description": "a repeat of an earlier submission with this Idempotency-Key: that submission again"},
        **answers(400, 401, 403, 413, 422, 429, why={
            401: "a bearer token was sent but it is invalid", 403: "a token without the role `portal`",
            422: "malformed, a procedure not offered online or not received at this agency, or this "
                 "Idempotency-Key used before with another body"})})
    async def submit(request: Request, response: Response, body: SubmissionIn, idempotency_key: FilingKey,
                     portal: Annotated[Officer | None, Depends(_portal)] = None) -> SubmissionOut:
        """File a dossier online (state 1, waiting for the desk's check). The answer's `upload_token` authorises
        the uploads of its files; it is never shown again (a repeat of this request answers it too)."""
        if portal is None:
            _limit(request, request.app.state.submission_limit, "too many submissions from this address; try later")
        submissions = _submissions(request)
        async with _errors():
            view, created = await submissions.submit(body, idempotency_key, portal)
        if not created:
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
        return _out(view, submissions.token(view.row.id))

    @r.post("/public/submissions/{submission_id}/documents", status_code=201, response_model=DocumentOut,
            openapi_extra=RAW_BODY, responses={
                200: {"model": DocumentOut, "description": "a repeat of an earlier upload with this Idempotency-Key"},
                **UNSUPPORTED, **answers(400, 404, 409, 413, 422, why={
                    400: "the upload was interrupted before its end (nothing is stored)",
                    404: "no such submission, or not this upload token", 409: "the desk already decided",
                    413: TOO_LARGE, 422: "malformed, an item not on the checklist, or this Idempotency-Key used "
                                         "before with another file"})})
    async def upload(request: Request, response: Response, submission_id: uuid.UUID, item: Item,
                     idempotency_key: UploadKey, x_submission_token: SubmissionToken = None,
                     file_name: Annotated[str | None, Query(max_length=1000)] = None) -> DocumentOut:
        """Upload one file of a checklist paper (PDF, JPEG or PNG), streamed, while the desk has not decided."""
        async with _upload_errors(), _errors():
            row, created = await _submissions(request).upload(
                submission_id, x_submission_token, Upload(item, idempotency_key, file_name), request.stream())
        if not created:
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
        return _document_out(submission_id, row)

    @r.get("/public/submissions/{submission_id}", response_model=SubmissionStatusOut,
           responses=answers(404, 422, 429, why={404: "no submission matches this id and these digits"}))
    async def status(request: Request, submission_id: uuid.UUID,
                     last4: Annotated[str, Query(pattern=r"^\d{4}$")]) -> SubmissionStatusOut:
        """The citizen's status of a submission: the id + the last 4 digits of the personal ID; no personal data."""
        limits: LookupLimits = request.app.state.lookup_limit
        _limit(request, limits.clients, "too many look-ups from this address; try later")
        key = f"submission:{submission_id}"  # failed look-ups of one submission, whoever makes them
        if (wait := limits.codes.take(key, time.monotonic())) > 0:
            _limited(wait, "too many failed look-ups of this submission; try again later or ask at the desk")
        view = await _submissions(request).status(submission_id, last4)
        if view is None:  # the token stays spent: a failed attempt counts
            raise HTTPException(404, "no submission matches this id and these digits")
        limits.codes.give_back(key, time.monotonic())
        row = view.row
        return SubmissionStatusOut(id=row.id, state=SubmissionState(row.state), procedure_name=row.procedure_name,
                                   submitted_at=row.submitted_at, code=row.dossier_code,
                                   appointment_at=view.appointment_at, refusal_reason=row.refusal_reason)

    return r


def _decision(what: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": DossierOut, "headers": REPLAYED, "description": f"{what} before: that dossier again"},
            **answers(*DESK, 404, 409, why={404: "no such submission at the officer's agency",
                                            409: "the desk already decided otherwise"})}


def router() -> APIRouter:
    r = APIRouter(tags=["submissions"])

    @r.get("/submissions", response_model=list[SubmissionDeskOut], responses=answers(*DESK))
    async def queue(request: Request, officer: DeskOfficer,
                    state: SubmissionState = SubmissionState.AWAITING_CHECK) -> list[SubmissionDeskOut]:
        """The agency's online submissions in `state`, oldest first (without their files)."""
        rows = await _submissions(request).queue(officer, state)
        return [_desk_out(SubmissionView(row, [])) for row in rows]

    @r.get("/submissions/{submission_id}", response_model=SubmissionDeskOut, responses=answers(*DESK, 404))
    async def one(request: Request, submission_id: uuid.UUID, officer: DeskOfficer) -> SubmissionDeskOut:
        """One submission as the desk checks it: the applicant, the declared papers and the files."""
        async with _errors():
            view = await _submissions(request).one(submission_id, officer)
        return _desk_out(view)

    @r.get("/submissions/{submission_id}/documents/{document_id}/content", response_class=Response,
           responses={**documents(*EXTENSIONS), **answers(*DESK, 404)})
    async def content(request: Request, submission_id: uuid.UUID, document_id: uuid.UUID,
                      officer: DeskOfficer) -> Response:
        """A file of the submission, streamed through intake."""
        async with _errors():
            row, chunks = await _submissions(request).open(submission_id, document_id, officer)
        name = f"{row.id}.{EXTENSIONS.get(row.media_type, 'bin')}"
        return StreamingResponse(chunks, media_type=row.media_type, headers={
            "Content-Length": str(row.size), "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})

    @r.post("/submissions/{submission_id}/acceptance", status_code=201, response_model=DossierOut,
            responses={**_decision("accepted"), **answers(413)})
    async def accept(request: Request, response: Response, submission_id: uuid.UUID,
                     officer: DeskOfficer) -> DossierOut:
        """Accept it: a dossier received now (channel online, the same id), its code and appointment from now."""
        async with _errors():
            row, created = await _submissions(request).accept(submission_id, officer)
        return _created(response, row, created)

    @r.post("/submissions/{submission_id}/refusal", status_code=201, response_model=DossierOut,
            responses={**_decision("refused"), **answers(400, 413)})
    async def refuse(request: Request, response: Response, submission_id: uuid.UUID, body: SubmissionRefusalIn,
                     officer: DeskOfficer) -> DossierOut:
        """Refuse it (Form 03) with the reason: a refused dossier with its code; the citizen is told."""
        async with _errors():
            row, created = await _submissions(request).refuse(submission_id, officer, body.reason)
        return _created(response, row, created)

    return r


def _document_out(submission_id: uuid.UUID, row: DocumentRow) -> DocumentOut:
    url = f"/api/v1/submissions/{submission_id}/documents/{row.id}/content"
    return DocumentOut.model_validate({**row.model_dump(), "content_url": url})


def _desk_out(view: SubmissionView) -> SubmissionDeskOut:
    row = view.row
    applicant = ApplicantOut(full_name=row.applicant_name, personal_id=row.personal_id, phone=row.phone,
                             email=row.email)
    declared = [DeclaredPaperOut.model_validate(paper) for paper in row.documents]
    return SubmissionDeskOut(**_out(view, None).model_dump(), applicant=applicant, declared=declared,
                             submitter=row.submitter)


def _out(view: SubmissionView, token: str | None) -> SubmissionOut:
    row = view.row
    return SubmissionOut(
        id=row.id, state=SubmissionState(row.state), receiving_agency=row.receiving_agency,
        procedure_code=row.procedure_code, procedure_name=row.procedure_name, submitted_at=row.submitted_at,
        code=row.dossier_code, appointment_at=view.appointment_at, refusal_reason=row.refusal_reason,
        documents=[_document_out(row.id, d) for d in view.documents], upload_token=token,
    )

