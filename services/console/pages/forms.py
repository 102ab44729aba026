"""Turning posted forms into the services' request bodies (and back, to show what was typed)."""

from __future__ import annotations

import unicodedata
from typing import Any

from starlette.datastructures import FormData


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def texts(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def lines(form: FormData, name: str) -> list[str]:
    return [line.strip() for line in text(form, name).splitlines() if line.strip()]


def fold(value: str) -> str:
    """Lower case without diacritics, so "khai sinh" finds "Đăng ký khai sinh" and "dang ky" does too."""
    decomposed = unicodedata.normalize("NFD", value.lower().replace("đ", "d"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def matches(procedure: dict[str, Any], query: str) -> bool:
    q = fold(query.strip())
    return not q or q in fold(str(procedure.get("code", ""))) or q in fold(str(procedure.get("name", "")))


def dossier_body(form: FormData) -> dict[str, Any]:
    """DossierIn of intake: the applicant, the documents ticked on the checklist and any others typed."""
    scanned = form.get("digitised") == "on"
    documents = [{"name": name, "digitised": scanned} for name in texts(form, "doc") + lines(form, "other_docs")]
    applicant = {"full_name": text(form, "full_name"), "personal_id": text(form, "personal_id"),
                 "phone": text(form, "phone") or None, "email": text(form, "email") or None}
    return {"procedure_code": text(form, "procedure_code"), "channel": text(form, "channel") or "in_person",
            "applicant": applicant, "documents": documents}


def values(form: FormData) -> dict[str, Any]:
    """What the officer typed, to put back into the form beside the reasons."""
    return {"full_name": text(form, "full_name"), "personal_id": text(form, "personal_id"),
            "phone": text(form, "phone"), "email": text(form, "email"), "channel": text(form, "channel"),
            "docs": set(texts(form, "doc")), "other_docs": text(form, "other_docs"),
            "digitised": form.get("digitised") == "on", "reason": text(form, "reason")}


FIELD_NAMES = {  # intake's field paths → the form's input names
    "applicant.full_name": "full_name", "applicant.personal_id": "personal_id", "applicant.phone": "phone",
    "applicant.email": "email", "channel": "channel", "procedure_code": "procedure_code", "reason": "reason",
}


def field_errors(errors: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for path, message in errors.items():
        key = FIELD_NAMES.get(path, "documents" if path.startswith("documents") else "general")
        out.setdefault(key, _vietnamese(message))
    return out


def _vietnamese(message: str) -> str:
    """Pydantic's generic messages in Vietnamese; the identity validators' own reasons are kept as they are."""
    generic = {
        "Field required": "Bắt buộc nhập.",
        "String should have at least": "Quá ngắn.",
        "value is not a valid email address": "Địa chỉ thư điện tử không hợp lệ.",
    }
    for prefix, text_vi in generic.items():
        if message.startswith(prefix) or prefix in message:
            return f"{text_vi} ({message})"
    return message.removeprefix("Value error, ")
