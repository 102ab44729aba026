"""A dossier's scans (issue 17): the manifest beside a dossier, the desk's upload to intake, and the download —
all through intake's documents API with the officer's token. The console keeps no copy: an upload is spooled by
the form parser only to be hashed and streamed on; a download streams intake's answer through."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from services.console.client import ServiceError, Services
from services.console.sessions import Session
from services.console.web import DossierCode, Officer, console, require_role

CHUNK = 64 * 1024
UPLOAD_PATH = r"/desk/dossiers/[^/]+/documents"  # the console's route whose body may pass its 1 MiB bound
DRAFT_UPLOAD_PATH = "/desk/draft-scans"  # the same, for the receipt form's scans taken before the receipt
ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
READERS = ("desk_officer", "specialist", "department_head")  # intake's READER_ROLES
MEDIA = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
DIGITISATION = {0: "Chưa số hóa", 1: "Đã số hóa", 2: "Tái sử dụng giấy tờ của hồ sơ khác",
                3: "Tái sử dụng kết quả của hồ sơ khác"}
RESULT_LABEL = "Kết quả giải quyết (đã ký số)"
# Intake's reasons are English and for clients; the officer reads these, beside the item.
REFUSALS = {
    413: "Tệp quá lớn: mỗi tệp tối đa 20 MB và cả hồ sơ tối đa 100 MB. Chưa lưu tệp này.",
    415: "Tệp không phải PDF, JPEG hoặc PNG (xét theo nội dung tệp, không theo tên tệp). Chưa lưu tệp này.",
    400: "Việc tải lên bị gián đoạn, chưa lưu tệp này. Hãy thử lại.",
}


def size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")
    return f"{max(size, 1) / 1024:.0f} KB" if size >= 1024 else f"{size} byte"


def shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The manifest as the pages show it: type, size and digitisation state in Vietnamese."""
    return [{**row, "type_label": MEDIA.get(row.get("media_type", ""), row.get("media_type", "")),
             "size_label": size_label(int(row.get("size") or 0)), "label": _label(row),
             "is_result": row.get("kind") == "result",
             "digitisation_label": DIGITISATION.get(row.get("digitisation", -1), "")}
            for row in rows]


def _label(row: dict[str, Any]) -> str:
    """A paper by its checklist number and name; the signed result (kind result, item 0) by what it is."""
    if row.get("kind") == "result":
        return RESULT_LABEL
    return f"{row.get('checklist_item', '')}. {row.get('item_name', '')}"


async def manifest(services: Services, session: Session, code: str) -> list[dict[str, Any]] | None:
    """The dossier's scans; None when intake will not show them to this officer (404: e.g. an agency that has not
    acknowledged the dossier yet), so the page says so instead of failing as a whole."""
    try:
        rows = await services.json("intake", "GET", f"/dossiers/{code}/documents", session.token)
    except ServiceError as exc:
        if exc.status not in (403, 404):
            raise
        return None
    return shown(rows)


def upload_key(code: str, item: int, file_hash: str) -> str:
    """The same file for the same item of the same dossier is one upload: a double submit stores once."""
    return "console-" + hashlib.sha256(f"{code}\n{item}\n{file_hash}".encode()).hexdigest()


@dataclass(frozen=True)
class Limits:
    file_bytes: int
    dossier_bytes: int


def room(limits: Limits, scans: list[dict[str, Any]], item: int, file_hash: str) -> int:
    """The largest file intake takes now, as it reckons it: a repeat of a listed upload (same item, same bytes)
    adds nothing, so only the per-file limit applies to it; a new one also fits in what the dossier has left."""
    if any(s["checklist_item"] == item and s["sha256"] == file_hash for s in scans):
        return limits.file_bytes
    return min(limits.file_bytes, limits.dossier_bytes - sum(int(s["size"]) for s in scans))


async def upload(services: Services, session: Session, code: str, item: int, file: UploadFile,
                 limits: Limits, scans: list[dict[str, Any]]) -> str | None:
    """Stream one scan to intake; None when stored (or stored before), else the reason in Vietnamese.
    `scans`: the dossier's manifest as it stands."""
    sent = await send(services, f"/dossiers/{code}/documents", code, item, file, limits, scans, token=session.token)
    return sent if isinstance(sent, str) else None


async def send(services: Services, path: str, scope: str, item: int, file: UploadFile, limits: Limits,
               scans: list[dict[str, Any]], token: str | None = None, headers: dict[str, str] | None = None,
               reasons: dict[int, str] | None = None, query: dict[str, str] | None = None) -> str | dict[str, Any]:
    """One file for checklist item `item` streamed to intake's upload `path` (a dossier's, a draft's with the
    procedure in `query`, or an online submission's with its token in `headers`); `scope` names the dossier, draft
    or submission in the idempotency key. Intake's entry of the stored file, or the reason (Vietnamese) it was not
    stored; `reasons` adds the caller's own for other refusals."""
    file_hash, size = await measure(file)
    if size == 0:
        return "Tệp rỗng hoặc chưa chọn tệp."
    if size > room(limits, scans, item, file_hash):
        return REFUSALS[413]  # intake would answer so before reading, and the reset upload would lose it
    params: dict[str, Any] = {**(query or {}), "item": item}
    if file.filename:
        params["file_name"] = file.filename[:1000]
    try:
        return await stream_to(services, path, file, size, upload_key(scope, item, file_hash), params, token, headers)
    except ServiceError as exc:
        return (reasons or {}).get(exc.status) or refusal(exc)


def refusal(exc: ServiceError) -> str:
    """Intake's refusal of an upload, in Vietnamese; anything else is raised again (the error page)."""
    if exc.status in REFUSALS:
        return REFUSALS[exc.status]
    if exc.status in (409, 422):
        return f"Không lưu được tệp: {exc.message}"
    if exc.status == 503:  # the connection went mid-upload (intake restarting, or a limit set lower there)
        return ("Không gửi được tệp tới dịch vụ tiếp nhận (" + exc.message + "). Chưa lưu tệp này; hãy thử lại "
                "sau ít phút, và kiểm tra tệp không quá 20 MB.")
    raise exc


async def measure(file: UploadFile) -> tuple[str, int]:
    """(SHA-256, size) of a spooled upload, read in chunks; the file is rewound for sending."""
    digest, size = hashlib.sha256(), 0
    while chunk := await file.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    await file.seek(0)
    return digest.hexdigest(), size


async def stream_to(services: Services, path: str, file: UploadFile, size: int, key: str, params: dict[str, Any],
                    token: str | None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """POST the file as intake's raw body; intake's entry of it, or ServiceError when intake refuses it."""

    async def body() -> AsyncIterator[bytes]:
        while chunk := await file.read(CHUNK):
            yield chunk

    # Content-Length lets intake refuse an oversized file before a byte of it is read.
    sent = {**(headers or {}), "Idempotency-Key": key, "Content-Type": "application/octet-stream",
            "Content-Length": str(size)}
    got = await services.raw("intake", "POST", path, token, headers=sent, params=params, content=body(), timeout=120.0)
    entry: dict[str, Any] = got.json()
    return entry


def router() -> APIRouter:
    r = APIRouter()

    @r.get("/documents/{code}/{document_id}")
    async def download(request: Request, session: Officer, code: DossierCode, document_id: uuid.UUID) -> Response:
        """Intake's content answer streamed through; its 404 (not one of the officer's dossiers) is our 404."""
        require_role(session, *READERS)
        return await passthrough(request, session, f"/dossiers/{code}/documents/{document_id}/content")

    return r


async def passthrough(request: Request, session: Session, path: str) -> Response:
    """Intake's content answer at `path` streamed through; its 404 (not the officer's) is our 404."""
    got = await console(request).services.stream("intake", "GET", path, session.token)
    passed = ("Content-Length", "Content-Disposition", "Content-Encoding")  # the bytes go through as sent
    headers = {name: got.headers[name] for name in passed if name in got.headers}
    return StreamingResponse(got.aiter_raw(), media_type=got.headers.get("Content-Type"),
                             headers={**headers, "Cache-Control": "private, no-store"},
                             background=BackgroundTask(got.aclose))
