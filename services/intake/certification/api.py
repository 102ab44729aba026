"""HTTP routes of certification: the desk certifies a scanned original electronically (the signed PDF comes back)
or enters an act certified on paper in the paper book; anyone checks an electronic copy by its number and its
file's SHA-256. Thin: validate, call `Certification` (service.py),
map its refusals to 4xx. Mounted under /api/v1 by the intake app (`router()`, `public_router()`).

The original is the request body itself (the PDF's bytes, as a scan upload in api_documents.py), read up to
ONESTOP_INTAKE_CERT_MAX_ORIGINAL_BYTES; the intake app lets UPLOAD_PATH past the suite's 1 MiB body bound."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from libs.auth import Officer
from libs.auth.fastapi import require
from libs.runtime.answers import Problem, answers
from services.intake.certification.domain import MAX_COPIES, MAX_DOCUMENT_TYPE, Original, Refused
from services.intake.certification.service import (
    Act,
    Certification,
    IssuedCopy,
    NotThisAgency,
    PaperAct,
    PaperEntry,
    Scan,
    SigningUnavailable,
)
from services.intake.certification.signing import NotAPdf

UPLOAD_PATH = r"/api/v1/certified-copies"  # the route whose body may pass the suite's 1 MiB bound
PDF = "application/pdf"
RETRY_SECONDS = 60  # a missing key is an operator's fix, not a moment's

Certifier = Annotated[Officer, Depends(require("desk_officer"))]
ActKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                               description="names this one act: a repeat enters nothing and answers the same entry")]

NOT_A_PDF: dict[int | str, dict[str, Any]] = {
    415: {"model": Problem, "description": "the original is not a readable PDF (or it is encrypted)"}}
RAW_PDF = {"requestBody": {"required": True, "description": "the scanned original's bytes (PDF)", "content": {
    PDF: {"schema": {"type": "string", "format": "binary"}},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}
ISSUED_HEADERS = {
    "X-Certification-Number": {"description": "the copy's number and year, as printed: 05/2026",
                               "schema": {"type": "string"}},
    "X-Certification-Book": {"description": "the book: 01/2026-SCT/BS", "schema": {"type": "string"}},
    "X-Certified-Copy-Id": {"description": "the copy's id in the book", "schema": {"type": "string"}},
    "X-Content-SHA256": {"description": "the SHA-256 of the signed PDF (what the public check asks for)",
                         "schema": {"type": "string"}},
    "X-Due-At": {"description": "when the copy was due: the same day, or the next working day after 15:00",
                 "schema": {"type": "string", "format": "date-time"}},
}


class VerifyOut(BaseModel):
    """Whether a copy with this number and this file was issued; if so by which agency, on which day. Nothing
    about the person or the document."""

    issued: bool
    agency: str | None = Field(default=None, description="the issuing agency's e-ID")
    agency_name: str | None = None
    number: str | None = Field(default=None, description="05/2026")
    book: str | None = Field(default=None, description="01/2026-SCT/BS")
    medium: str | None = Field(default=None, description="electronic")
    signed_on: date | None = Field(default=None, description="the agency's local date of the signature")


class PaperIn(BaseModel):
    """One document type certified on paper at one time: one number in the paper book, shared by its copies."""

    model_config = ConfigDict(extra="forbid")

    document_type: str = Field(min_length=1, max_length=MAX_DOCUMENT_TYPE, description="e.g. Giấy khai sinh")
    copies: int = Field(ge=1, le=MAX_COPIES)
    dossier_code: str | None = Field(default=None, max_length=64, description="the dossier the copies serve, if any")


class PaperOut(BaseModel):
    """The act's entry in the agency's paper book of the year."""

    reference: str = Field(description="number and year as written: 05/2026")
    book_type: str = Field(description="SCT/BS")
    number: int
    year: int
    copies: int
    certified_at: datetime


def _paper_out(entry: PaperEntry) -> PaperOut:
    n = entry.number
    return PaperOut(reference=n.reference, book_type=n.book.book_type.value, number=n.order, year=n.book.year,
                    copies=entry.copies, certified_at=entry.certified_at)


def _certification(request: Request) -> Certification:
    found: Certification = request.app.state.certification
    return found


@asynccontextmanager
async def _errors() -> AsyncIterator[None]:
    """The use case's refusals → HTTP answers with the reason."""
    try:
        yield
    except NotThisAgency as exc:
        raise HTTPException(403, str(exc)) from exc
    except SigningUnavailable as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": str(RETRY_SECONDS)}) from exc
    except NotAPdf as exc:
        raise HTTPException(415, str(exc)) from exc
    except Refused as exc:
        raise HTTPException(422, str(exc)) from exc


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes `limit` (never buffered beyond it)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the original is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _issued(copy: IssuedCopy) -> Response:
    name = f"ban-sao-chung-thuc-{copy.number.order:02d}-{copy.number.book.year}.pdf"
    return Response(copy.pdf, status_code=201, media_type=PDF, headers={
        "X-Certification-Number": copy.number.reference, "X-Certification-Book": copy.number.book_label,
        "X-Certified-Copy-Id": str(copy.id), "X-Content-SHA256": copy.sha256,
        "X-Due-At": copy.due_at.isoformat(), "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


def router() -> APIRouter:
    r = APIRouter(tags=["certification"])

    @r.post("/certified-copies", status_code=201, response_class=Response, openapi_extra=RAW_PDF,
            responses={201: {"description": "the certified copy: the original with its statement page, signed by "
                                            "the agency (PAdES)", "content": {PDF: {"schema": {
                                                "type": "string", "format": "binary"}}}, "headers": ISSUED_HEADERS},
                       **NOT_A_PDF, **answers(401, 403, 413, 422, 503, why={
                           403: "not a desk officer of the agency whose key this service holds",
                           413: "the original is larger than ONESTOP_INTAKE_CERT_MAX_ORIGINAL_BYTES (20 MB)",
                           422: "malformed, or refused as it stands: no document type, copies out of range, "
                                "received_at in the future",
                           503: "no agency signing key is loaded, or the database cannot answer now"})})
    async def certify(
        request: Request, officer: Certifier,
        document_type: Annotated[str, Query(min_length=1, max_length=MAX_DOCUMENT_TYPE,
                                            description="as the book writes it, e.g. Giấy khai sinh")],
        copies: Annotated[int, Query(ge=1, le=MAX_COPIES, description="copies asked for: they share one number")] = 1,
        received_at: Annotated[AwareDatetime | None, Query(
            description="when the request reached the desk (default now): the 15:00 rule counts from it")] = None,
        dossier_code: Annotated[str | None, Query(max_length=64)] = None,
    ) -> Response:
        """Certify a scanned original as an electronic copy (chứng thực bản sao điện tử từ bản chính): the body is
        the scan (PDF); the answer is the signed copy, its number in the book in the headers."""
        certification = _certification(request)
        body = await _read_body(request, certification.max_original_bytes)
        async with _errors():
            scan = Scan(body, Original(document_type, copies))
            issued = await certification.certify(Act([scan], received_at, dossier_code), officer)
        return _issued(issued[0])

    @r.post("/certifications/paper", status_code=201, response_model=PaperOut, responses={
        200: {"model": PaperOut, "description": "a repeat of an earlier act with this Idempotency-Key: that entry "
                                                "again (header Idempotent-Replayed: true)"},
        **answers(401, 403, 422, why={
            403: "not a desk officer of the agency this service certifies for",
            422: "malformed, or this Idempotency-Key used before for another act"})})
    async def certify_on_paper(request: Request, response: Response, body: PaperIn, officer: Certifier,
                               idempotency_key: ActKey) -> PaperOut:
        """Enter a copy certified on paper (chứng thực bản sao giấy) in the agency's paper SCT/BS book: the next
        number of the year, shared by the act's copies."""
        async with _errors():
            act = PaperAct(Original(body.document_type, body.copies), idempotency_key, body.dossier_code)
            entry, created = await _certification(request).certify_paper(act, officer)
        if not created:
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
        return _paper_out(entry)

    return r


def public_router() -> APIRouter:
    r = APIRouter(tags=["public"])

    @r.get("/public/certified-copies/verify", response_model=VerifyOut, responses=answers(422, why={
        422: "the number is not <number>/<year>, or sha256 is not 64 hexadecimal digits"}))
    async def verify(
        request: Request,
        number: Annotated[str, Query(min_length=6, max_length=20, pattern=r"^0*[1-9][0-9]{0,8}/[0-9]{4}$",
                                     description="as printed on the copy: 05/2026")],
        sha256: Annotated[str, Query(min_length=64, max_length=64, pattern=r"^[0-9a-fA-F]{64}$",
                                     description="the SHA-256 of the copy's file")],
    ) -> VerifyOut:
        """Check an electronic certified copy: was a copy with this number and this exact file issued, by whom,
        on which day. One changed byte changes the file's SHA-256: the answer is then `issued: false`."""
        async with _errors():
            verdict = await _certification(request).verify(number, sha256)
        return VerifyOut.model_validate(verdict, from_attributes=True)

    return r
