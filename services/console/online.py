"""Online submission as the console shows it (issue 17, docs/domain.md §5.2): which procedures a citizen may file
online, the request body from the citizen's form, the states in plain Vietnamese, and the signed short-lived
pass that carries the submission's upload token between the citizen's pages (never in a URL)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData

from services.console.pages import forms

ONLINE_LEVELS = ("full", "partial")  # §5.2: a `none` procedure is filed in person or by post
LEVEL_LABELS = {"full": "Toàn trình", "partial": "Một phần"}
STATES = {  # the submission's state → (label, what it means for the citizen)
    "awaiting_check": ("Chờ tiếp nhận", "Bộ phận Một cửa đang kiểm tra hồ sơ bạn nộp trực tuyến."),
    "accepted": ("Đã tiếp nhận", "Hồ sơ đã được tiếp nhận; thời hạn giải quyết tính từ lúc tiếp nhận."),
    "refused": ("Bị từ chối", "Hồ sơ không được tiếp nhận, lý do ở dưới."),
}
PASS_COOKIE = "onestop_submission"
PASS_PATH = "/tra-cuu/nop-truc-tuyen"
PASS_SECONDS = 2 * 3600  # long enough to scan a few papers on a phone; then the citizen asks at the desk


def offered(procedures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The procedures a ward receives online (§5.1, §5.2), by field then name for the citizen's list."""
    found = [p for p in procedures if p.get("online_level") in ONLINE_LEVELS
             and "ward" in (p.get("received_at") or ("ward",))]
    return sorted(found, key=lambda p: (str(p.get("field", "")), str(p.get("name", ""))))


def by_field(procedures: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for p in procedures:
        out.setdefault(str(p.get("field", "")), []).append(p)
    return out


def submission_body(form: FormData, checklist: list[str]) -> dict[str, Any]:
    """Intake's submission body: the ward, the procedure, the applicant and the papers declared (ticked on the
    checklist, one copy each unless a number is given)."""
    documents = []
    for n, name in enumerate(checklist, start=1):
        if forms.text(form, f"doc-{n}") == "on":
            copies = forms.text(form, f"copies-{n}")
            documents.append({"name": name, "copies": int(copies) if copies.isdigit() and int(copies) > 0 else 1})
    applicant = {"full_name": forms.text(form, "full_name"), "personal_id": forms.text(form, "personal_id"),
                 "phone": forms.text(form, "phone") or None, "email": forms.text(form, "email") or None}
    return {"receiving_agency": forms.text(form, "receiving_agency"),
            "procedure_code": forms.text(form, "procedure_code"), "applicant": applicant, "documents": documents}


def typed(form: FormData) -> dict[str, Any]:
    """What the citizen typed, put back beside the reasons of a refused form."""
    docs = {k.removeprefix("doc-") for k in form if k.startswith("doc-")}
    return {"full_name": forms.text(form, "full_name"), "personal_id": forms.text(form, "personal_id"),
            "phone": forms.text(form, "phone"), "email": forms.text(form, "email"), "docs": docs}


def state_view(submission: dict[str, Any]) -> dict[str, str]:
    label, text = STATES.get(str(submission.get("state")), (str(submission.get("state")), ""))
    return {"label": label, "text": text}


def submission_id(value: str) -> str | None:
    """A submission id as it may go into intake's URLs (a UUID), else None."""
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        return None


def last4_ok(value: str) -> bool:
    return len(value) == 4 and value.isdigit()


PASS_FILES = 30  # files remembered for the citizen's list (the cookie stays well under 4 KB)


@dataclass(frozen=True)
class Sent:
    """A file intake stored for the submission, as the citizen's list shows it."""

    id: str
    item: int
    size: int
    name: str


@dataclass(frozen=True)
class Pass:
    """What the citizen's browser holds between the steps: the submission, its upload token, the last 4 digits
    (for its status), its procedure (the checklist the files are numbered by) and the files sent so far (intake's
    status look-up shows no files: it is the citizen's, without personal data)."""

    id: str
    token: str
    last4: str
    procedure: str
    files: tuple[Sent, ...] = ()

    def with_file(self, entry: dict[str, Any]) -> Pass:
        """The pass after intake stored `entry` (a repeat of a stored file changes nothing)."""
        sent = Sent(str(entry["id"]), int(entry["checklist_item"]), int(entry.get("size") or 0),
                    str(entry.get("file_name") or "")[:40])
        if any(f.id == sent.id for f in self.files):
            return self
        return replace(self, files=(*self.files, sent)[-PASS_FILES:])

    def scans(self) -> list[dict[str, Any]]:
        """The files as the upload's room check reads them (no hashes kept: a repeat counts as new)."""
        return [{"checklist_item": f.item, "size": f.size, "sha256": ""} for f in self.files]


class PassSigner:
    def __init__(self, secret: str) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="onestop-console-submission")

    def dumps(self, p: Pass) -> str:
        return self._signer.dumps({"id": p.id, "token": p.token, "last4": p.last4, "procedure": p.procedure,
                                   "files": [[f.id, f.item, f.size, f.name] for f in p.files]})

    def loads(self, raw: str | None, submission: str) -> Pass | None:
        """The pass for this submission, if signed here, not expired, and for the same submission."""
        try:
            data = self._signer.loads(raw or "", max_age=PASS_SECONDS)
        except BadSignature:
            return None
        if not isinstance(data, dict) or data.get("id") != submission:
            return None
        files = tuple(Sent(str(i), int(n), int(size), str(name)) for i, n, size, name in data.get("files", []))
        return Pass(str(data["id"]), str(data["token"]), str(data["last4"]), str(data["procedure"]), files)
