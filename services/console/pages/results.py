"""The competent agency's signed result file (issue 17, docs/domain.md §4.4): uploaded from the case page to
intake, which signs and lists it with the dossier's documents (kind result); processing learns of it from intake's
event and only then lets the case be approved (or marked ready) as an electronic result."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.datastructures import UploadFile

from services.console.client import ServiceError, Services
from services.console.pages import documents
from services.console.sessions import Session

UPLOADERS = ("specialist", "department_head")  # intake's: of the competent agency
ELECTRONIC_ACTIONS = ("approve", "result-ready")
REFUSALS = {
    413: "Tệp kết quả quá lớn: tối đa 20 MB. Chưa lưu tệp này.",
    415: "Kết quả phải là tệp PDF (xét theo nội dung tệp). Chưa lưu tệp này.",
    403: "Chỉ chuyên viên hoặc lãnh đạo của cơ quan có thẩm quyền giải quyết được đính kèm kết quả.",
    400: "Việc tải lên bị gián đoạn, chưa lưu tệp này. Hãy thử lại.",
}
NOT_ATTACHED = ("Chưa có kết quả đã ký số đính kèm hồ sơ (hoặc hệ thống xử lý chưa nhận được). Hãy đính kèm tệp "
                "PDF kết quả ở mục \u201cĐính kèm kết quả đã ký số\u201d, chờ ít giây rồi thử lại; hoặc bỏ chọn "
                "\u201cKết quả điện tử\u201d.")


def result_key(code: str, file_hash: str) -> str:
    """The same file for the same dossier is one attachment: a double submit stores once."""
    return "console-result-" + hashlib.sha256(f"{code}\nresult\n{file_hash}".encode()).hexdigest()


def may_attach(case: dict[str, Any], roles: frozenset[str], agency: str) -> bool:
    """Offer the upload to the competent agency's workers while the case is being decided (intake decides)."""
    return (case.get("competent_agency") == agency and bool(roles & set(UPLOADERS))
            and case.get("state") in (2, 4) and not case.get("closed_at"))


def action_refusal(action: str, electronic: bool, exc: ServiceError) -> str:
    """Processing's refusal as the officer reads it: an electronic decision without an attached result in
    Vietnamese (processing's own words kept after it), anything else as processing said it."""
    if exc.status == 409 and electronic and action in ELECTRONIC_ACTIONS and "result" in exc.message.lower():
        return f"{NOT_ATTACHED} ({exc.message})"
    return exc.message


def attached(case: dict[str, Any]) -> dict[str, Any] | None:
    """The result processing knows of (its case view's `result`), if any."""
    found = case.get("result")
    return found if isinstance(found, dict) and found.get("document_id") else None


async def attach(services: Services, session: Session, code: str, file: UploadFile, max_bytes: int) -> str | None:
    """Stream the signed result PDF to intake; None when stored (or stored before), else the reason."""
    file_hash, size = await documents.measure(file)
    if size == 0:
        return "Tệp rỗng hoặc chưa chọn tệp."
    if size > max_bytes:
        return REFUSALS[413]
    params = {"file_name": file.filename[:1000]} if file.filename else {}
    try:
        await documents.stream_to(services, f"/dossiers/{code}/result", file, size, result_key(code, file_hash),
                                  params, session.token)
    except ServiceError as exc:
        if exc.status in REFUSALS:
            return REFUSALS[exc.status]
        if exc.status in (404, 409, 422, 503):  # 503: no key to sign with yet, or intake unreachable
            return f"Không đính kèm được kết quả: {exc.message}"
        return documents.refusal(exc)
    return None
