"""The scans the desk takes on the receipt form, before the receipt (docs/domain.md §4.4): each goes to intake's
drafts API under the Idempotency-Key the form will send with the receipt, which then carries them in
`dossier.received`'s manifest. The console keeps no copy, as for a dossier's scans (pages/documents.py)."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.datastructures import FormData, UploadFile

from services.console.client import ServiceError, Services
from services.console.pages import documents
from services.console.sessions import Session

KEY_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"  # the form's key: a uuid4
NOTHING_CHOSEN = "Chưa chọn tệp."
# The draft's own refusals (the others are the dossier upload's, documents.REFUSALS).
REASONS = {
    404: "Bộ phận một cửa không tiếp nhận thủ tục này hôm nay. Chưa lưu tệp này.",
    409: "Hồ sơ đã được tiếp nhận: tải bản quét lên từ trang hồ sơ. Chưa lưu tệp này.",
}


def valid_key(key: str | None) -> bool:
    """A key the console made for the form (the draft's name in intake's URLs): nothing else is sent on."""
    try:
        return key is not None and str(uuid.UUID(key)) == key
    except ValueError:
        return False


async def taken(services: Services, session: Session, key: str) -> list[dict[str, Any]]:
    """The scans taken so far under `key`; none when intake has none (404) or the receipt took them (409)."""
    try:
        rows = await services.json("intake", "GET", f"/drafts/{key}/documents", session.token)
    except ServiceError as exc:
        if exc.status not in (404, 409):
            raise
        return []
    return documents.shown(rows)


def by_item(scans: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for scan in scans:
        out.setdefault(int(scan["checklist_item"]), []).append(scan)
    return out


def chosen(form: FormData, items: int) -> dict[int, list[UploadFile]]:
    """The files picked per checklist item (inputs scan-1 … scan-N); an input left empty sends a nameless part."""
    picked = {n: [f for f in form.getlist(f"scan-{n}") if isinstance(f, UploadFile) and f.filename]
              for n in range(1, items + 1)}
    return {n: files for n, files in picked.items() if files}


async def upload(services: Services, session: Session, key: str, procedure: str,
                 picked: dict[int, list[UploadFile]], limits: documents.Limits) -> dict[int, str]:
    """Stream each picked file to the draft; the reasons (Vietnamese) by item for those not stored."""
    scans = await taken(services, session, key)
    errors: dict[int, list[str]] = {}
    for item, files in picked.items():
        for file in files:
            sent = await documents.send(services, f"/drafts/{key}/documents", key, item, file, limits, scans,
                                        token=session.token, reasons=REASONS, query={"procedure_code": procedure})
            if isinstance(sent, str):
                errors.setdefault(item, []).append(f"{file.filename}: {sent}" if len(files) > 1 else sent)
            else:
                scans.append(sent)  # counts toward the draft's room for the next file
    return {item: " ".join(reasons) for item, reasons in errors.items()}
