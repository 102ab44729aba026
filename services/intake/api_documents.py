"""HTTP routes of a dossier's scans (issue 17 §1): upload at the desk, reuse by reference, the manifest, the
download; and the draft's, the scans taken at the counter before the receipt (keyed by the receipt's
Idempotency-Key, docs/domain.md §4.4). Thin: validate, call `Documents` (documents.py), map its refusals to 4xx.

Uploads are the raw bytes as the request body, streamed to the document store: the type is decided from the
bytes (the `Content-Type` header is ignored), the size limits are enforced while the body streams in. Anyone who
may not read a dossier's scans gets 404, exactly like a dossier that does not exist."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import ClientDisconnect

from libs.auth import Officer
from libs.auth.fastapi import require
from libs.catalogue import CatalogueError
from libs.runtime.answers import Problem, answers, documents
from libs.storage import TooLarge, UnsupportedMediaType
from services.intake.desk import NotFound
from services.intake.documents import Documents, ObjectVanished, Upload
from services.intake.domain.documents import READER_ROLES, DraftReceived, IdempotencyConflict, UnknownItem
from services.intake.store.tables import DocumentRow

UPLOAD_PATH = r"/api/v1/dossiers/[^/]+/documents"  # the route whose body may pass the suite's 1 MiB bound
DRAFT_UPLOAD_PATH = r"/api/v1/drafts/[^/]+/documents"  # the same, for a scan taken before the receipt
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
RETRY_SECONDS = 1

Uploader = Annotated[Officer, Depends(require("desk_officer"))]
Reader = Annotated[Officer, Depends(require(*READER_ROLES))]
UploadKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                                  description="names this one upload: a repeat answers the same document")]
DraftKey = Annotated[str, Path(min_length=1, max_length=200, description=(
    "the Idempotency-Key the desk will send with this dossier's receipt (POST /api/v1/dossiers)"))]
Item = Annotated[int, Query(ge=1, le=100, description="1-based position of the paper in the procedure "
                                                      "version's checklist")]

# The answers of these routes beyond the shared ones.
UNSUPPORTED: dict[int | str, dict[str, Any]] = {
    415: {"model": Problem, "description": "not a PDF, JPEG or PNG scan (decided from its first bytes)"}}
TOO_LARGE = ("larger than the per-file limit (20 MB by default) or than what the dossier's limit (100 MB) "
             "leaves; nothing is stored")
READ = answers(401, 403, 404, 422, why={404: "no such dossier or document among those the officer may read"})
RAW_BODY = {"requestBody": {"required": True, "description": "the scan's bytes (PDF, JPEG or PNG)", "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}


class DocumentOut(BaseModel):
    """One document of the dossier (a scan, an online file or the signed result): its manifest entry, with the name
    the browser sent (as data) and where to read it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: Literal["paper", "result"] = Field(description="paper: a checklist paper's scan or file; result: the "
                                                        "competent agency's signed result (item 0)")
    checklist_item: int = Field(description="1-based item of the checklist; 0 for a result")
    item_name: str
    sha256: str
    size: int = Field(description="bytes")
    media_type: str
    pages: int | None = Field(description="null for a PDF for now")
    digitisation: int = Field(description="0 not digitised, 1 digitised, 2 reused from another dossier's papers, "
                                          "3 reused from another dossier's result (DOMAIN.md §1.5)")
    reused_from: uuid.UUID | None
    file_name: str | None = Field(description="the uploaded file's name, cleaned; never used as a path")
    uploaded_by: str
    uploaded_at: datetime
    content_url: str


class ReuseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: int = Field(ge=1, le=100, description="the checklist item of this dossier the scan stands for")
    document_id: uuid.UUID = Field(description="a scan of the same citizen's earlier dossier")


def _documents(request: Request) -> Documents:
    found: Documents = request.app.state.documents
    return found


@asynccontextmanager
async def _errors() -> AsyncIterator[None]:
    """The use case's refusals → HTTP answers with the reason (never the file name)."""
    try:
        yield
    except NotFound as exc:
        raise HTTPException(404, "no such dossier or document among those you may read") from exc
    except (UnknownItem, IdempotencyConflict) as exc:
        raise HTTPException(422, str(exc)) from exc
    except CatalogueError as exc:  # a draft's procedure: like a dossier, one this desk cannot reach is not found
        raise HTTPException(404, f"no procedure this desk receives today: {exc}") from exc
    except DraftReceived as exc:
        raise HTTPException(409, str(exc)) from exc
    except TooLarge as exc:
        raise HTTPException(413, str(exc)) from exc
    except UnsupportedMediaType as exc:
        raise HTTPException(415, str(exc)) from exc
    except ObjectVanished as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": str(RETRY_SECONDS)}) from exc
    except ClientDisconnect as exc:  # nothing was stored; an answer nobody reads, not a server error
        raise HTTPException(400, "the upload was interrupted before its end") from exc


def _out(code: str, row: DocumentRow, under: str = "dossiers") -> DocumentOut:
    """`under`: drafts for a scan taken before the receipt (`code` is then the draft's key)."""
    url = f"/api/v1/{under}/{code}/documents/{row.id}/content"
    return DocumentOut.model_validate({**row.model_dump(), "content_url": url})


def _answered(response: Response, code: str, row: DocumentRow, created: bool, under: str = "dossiers") -> DocumentOut:
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return _out(code, row, under)


def _file(row: DocumentRow, chunks: AsyncIterator[bytes]) -> StreamingResponse:
    name = f"{row.id}.{EXTENSIONS.get(row.media_type, 'bin')}"  # never the uploaded name: no header tricks
    return StreamingResponse(chunks, media_type=row.media_type, headers={
        "Content-Length": str(row.size), "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


def _replay(what: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": DocumentOut, "description": f"a repeat of an earlier {what} with this Idempotency-Key: "
                                                      "that document again (header Idempotent-Replayed: true)"}}


def router() -> APIRouter:
    r = APIRouter(tags=["documents"])

    @r.post("/dossiers/{code}/documents", status_code=201, response_model=DocumentOut, openapi_extra=RAW_BODY,
            responses={**_replay("upload"), **UNSUPPORTED, **answers(400, 401, 403, 404, 413, 422, why={
                400: "the upload was interrupted before its end (nothing is stored)",
                404: "no such dossier at the officer's desk", 413: TOO_LARGE,
                422: "malformed, an item not on the checklist, or this Idempotency-Key used before with another "
                     "file"})})
    async def upload(request: Request, response: Response, code: str, item: Item, officer: Uploader,
                     idempotency_key: UploadKey,
                     file_name: Annotated[str | None, Query(max_length=1000, description=(
                         "the file's name on the desk's computer, kept as data only"))] = None) -> DocumentOut:
        """Upload one scan of a checklist paper: the request body is the file (PDF, JPEG or PNG), streamed."""
        async with _errors():
            row, created = await _documents(request).upload(
                code, officer, Upload(item, idempotency_key, file_name), request.stream())
        return _answered(response, code, row, created)

    @r.post("/dossiers/{code}/documents/reused", status_code=201, response_model=DocumentOut,
            responses={**_replay("reuse"), **answers(400, 401, 403, 404, 413, 422, why={
                404: "no such dossier at the officer's desk, or no such scan of the same citizen within reach"})})
    async def reuse(request: Request, response: Response, code: str, body: ReuseIn, officer: Uploader,
                    idempotency_key: UploadKey) -> DocumentOut:
        """Reuse, by reference, a scan of the same citizen's earlier dossier (digitisation state 2): no rescan."""
        async with _errors():
            row, created = await _documents(request).reuse(
                code, officer, Upload(body.item, idempotency_key), body.document_id)
        return _answered(response, code, row, created)

    @r.get("/dossiers/{code}/documents", response_model=list[DocumentOut], responses=READ)
    async def manifest(request: Request, code: str, officer: Reader) -> list[DocumentOut]:
        """The dossier's scans (the manifest), for the receiving ward and the agencies that held the case."""
        async with _errors():
            rows = await _documents(request).manifest(code, officer)
        return [_out(code, row) for row in rows]

    @r.get("/dossiers/{code}/documents/{document_id}/content", response_class=Response,
           responses={**documents(*EXTENSIONS), **READ})
    async def content(request: Request, code: str, document_id: uuid.UUID, officer: Reader) -> Response:
        """The scan's bytes, streamed through intake; each read is logged with the officer."""
        async with _errors():
            row, chunks = await _documents(request).open(code, document_id, officer)
        return _file(row, chunks)

    _draft_routes(r)
    return r


def _draft_routes(r: APIRouter) -> None:
    """A draft: the scans a desk officer takes before the receipt. Only that officer's agency sees it; the receipt
    with the same Idempotency-Key takes them into `dossier.received`'s manifest, and the draft is closed (409)."""
    received = "the receipt with this key was made: the scans are the dossier's now"

    @r.post("/drafts/{key}/documents", status_code=201, response_model=DocumentOut, openapi_extra=RAW_BODY,
            responses={**_replay("upload"), **UNSUPPORTED, **answers(400, 401, 403, 404, 409, 413, 422, why={
                400: "the upload was interrupted before its end (nothing is stored)",
                404: "no such procedure that this desk receives today", 409: received, 413: TOO_LARGE,
                422: "malformed, an item not on the procedure's checklist, or this Idempotency-Key used before with "
                     "another file"})})
    async def upload_draft(request: Request, response: Response, key: DraftKey, item: Item,
                           procedure_code: Annotated[str, Query(min_length=1, max_length=64, description=(
                               "the procedure the dossier will be received under; `item` is of the checklist of "
                               "its version in force today"))],
                           officer: Uploader, idempotency_key: UploadKey,
                           file_name: Annotated[str | None, Query(max_length=1000, description=(
                               "the file's name on the desk's computer, kept as data only"))] = None) -> DocumentOut:
        """Upload one scan before the receipt: the request body is the file (PDF, JPEG or PNG), streamed."""
        async with _errors():
            row, created = await _documents(request).upload_draft(
                key, procedure_code, officer, Upload(item, idempotency_key, file_name), request.stream())
        return _answered(response, key, row, created, "drafts")

    @r.get("/drafts/{key}/documents", response_model=list[DocumentOut], responses=answers(
        401, 403, 404, 409, 422, why={404: "no scan taken under this key at the officer's desk", 409: received}))
    async def draft(request: Request, key: DraftKey, officer: Uploader) -> list[DocumentOut]:
        """The scans taken so far for the receipt the desk will make with this Idempotency-Key."""
        async with _errors():
            rows = await _documents(request).drafts(key, officer)
        return [_out(key, row, "drafts") for row in rows]

    @r.get("/drafts/{key}/documents/{document_id}/content", response_class=Response,
           responses={**documents(*EXTENSIONS), **answers(401, 403, 404, 409, 422, why={
               404: "no such scan in the officer's desk's draft", 409: received})})
    async def draft_content(request: Request, key: DraftKey, document_id: uuid.UUID, officer: Uploader) -> Response:
        """A draft scan's bytes, for the officer to check it before the receipt; each read is logged."""
        async with _errors():
            row, chunks = await _documents(request).open_draft(key, document_id, officer)
        return _file(row, chunks)
