"""HTTP route of the signed result file (issue 17 §1): the competent agency's officer sends the result it issued
(a PDF it signed, the raw body, streamed); intake checks the signature and keeps the file beside the dossier's
scans.
Thin: validate, call `Results` (results.py), map its refusals to 4xx/503."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from libs.auth import Officer
from libs.auth.fastapi import require
from libs.runtime.answers import Problem, answers
from services.intake.api import _errors as _desk_errors
from services.intake.api_documents import RAW_BODY, TOO_LARGE, DocumentOut, UploadKey, _answered
from services.intake.api_documents import _errors as _upload_errors
from services.intake.domain.documents import RESULT_ROLES
from services.intake.results import Results, SigningUnavailable, UnsignedResult

UPLOAD_PATH = r"/api/v1/dossiers/[^/]+/result"  # the route whose body may pass the suite's 1 MiB bound
RETRY_SECONDS = 60
Attacher = Annotated[Officer, Depends(require(*RESULT_ROLES))]
PDF_BODY = {"requestBody": {**RAW_BODY["requestBody"], "description": "the result's bytes (a PDF)"}}


def router() -> APIRouter:
    r = APIRouter(tags=["documents"])

    @r.post("/dossiers/{code}/result", status_code=201, response_model=DocumentOut, openapi_extra=PDF_BODY,
            responses={
                200: {"model": DocumentOut, "description": "a repeat of an earlier result with this "
                                                           "Idempotency-Key: that document again"},
                415: {"model": Problem, "description": "not a PDF (decided from its first bytes)"},
                **answers(400, 401, 403, 404, 409, 413, 422, 503, why={
                    400: "the upload was interrupted before its end (nothing is stored)",
                    404: "no such dossier, or not of the officer's competent agency within its reach",
                    409: "the dossier is closed or already result-ready", 413: TOO_LARGE,
                    422: "no signature that holds (intact, whole file, trusted chain), or this Idempotency-Key "
                         "used before with another file",
                    503: "no trusted root is configured to check result signatures"})})
    async def attach(request: Request, response: Response, code: str, officer: Attacher,
                     idempotency_key: UploadKey) -> DocumentOut:
        """Attach the result the agency signed (PAdES) before marking the case result-ready: intake checks the
        signature, `dossier.result_attached` names the file, and the receiving ward downloads it like a scan."""
        results: Results = request.app.state.results
        try:
            async with _upload_errors(), _desk_errors(code):
                row, created = await results.attach(code, officer, idempotency_key, request.stream())
        except UnsignedResult as exc:
            raise HTTPException(422, str(exc)) from exc
        except SigningUnavailable as exc:
            raise HTTPException(503, str(exc), headers={"Retry-After": str(RETRY_SECONDS)}) from exc
        return _answered(response, code, row, created)

    return r
