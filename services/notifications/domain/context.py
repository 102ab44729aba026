"""Template variables (dữ liệu điền vào mẫu thông báo), the fields each kind needs, and preview samples."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_validator

from services.notifications.domain.kinds import NoticeKind

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# C0 and C1 controls (CR, LF, NUL, ESC…), DEL, and the Unicode line and paragraph separators
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def without_breaks(text: str) -> str:
    """The text with every control character and line break replaced by a space (spacing otherwise kept)."""
    return _LINE_BREAKING.sub(" ", text)


def single_line(text: str) -> str:
    """The text as one line: control characters and line breaks become spaces, runs of whitespace one space.
    Names and subjects come from citizens and officers; a CR/LF in them must never start a new line of an
    e-mail header (or of the letter's salutation)."""
    return " ".join(without_breaks(text).split())


class NoticeContext(BaseModel):
    """Everything a template may use. Times must be timezone-aware; they are shown in Vietnam time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dossier_code: str
    applicant_name: str
    procedure_name: str
    agency_name: str
    appointment_at: AwareDatetime | None = None
    reason: str | None = None
    missing_items: list[str] = []
    where_to_bring: str | None = None
    new_appointment_at: AwareDatetime | None = None
    pickup_place: str | None = None
    lookup_url: str | None = None

    @field_validator("dossier_code", "applicant_name", "procedure_name", "agency_name", "where_to_bring",
                     "pickup_place", "lookup_url")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return None if value is None else single_line(value)


REQUIRED_FIELDS: dict[NoticeKind, tuple[str, ...]] = {
    NoticeKind.RECEIVED: ("appointment_at",),
    NoticeKind.REFUSED: ("reason",),
    NoticeKind.SUPPLEMENT_REQUESTED: ("missing_items", "where_to_bring"),
    NoticeKind.TRANSFERRED: ("appointment_at",),
    NoticeKind.EXTENDED: ("reason", "new_appointment_at"),
    NoticeKind.RESULT_READY: ("pickup_place", "appointment_at"),
    NoticeKind.RESULT_POSTED: (),
    NoticeKind.STOPPED: ("reason",),
    NoticeKind.REJECTED: ("reason",),
}


class MissingContextError(ValueError):
    """The context lacks a field the notice kind needs."""


def check_context(kind: NoticeKind, ctx: NoticeContext) -> None:
    missing = [name for name in REQUIRED_FIELDS[kind] if not getattr(ctx, name)]
    if missing:
        raise MissingContextError(f"notice {kind.value!r} needs {', '.join(missing)}")


_AGENCY = "UBND phường Nguyễn Thị Minh Khai"
_SAMPLE_BASE = {
    "dossier_code": "000.00.12.H55-260316-0001",
    "applicant_name": "Nguyễn Văn Đức",
    "procedure_name": "Đăng ký khai sinh",
    "agency_name": _AGENCY,
    "lookup_url": "https://onestop.local/tra-cuu",
}
_SAMPLE_EXTRA: dict[NoticeKind, dict[str, object]] = {
    NoticeKind.RECEIVED: {"appointment_at": datetime(2026, 3, 20, 14, 0, tzinfo=VN_TZ)},
    NoticeKind.REFUSED: {"reason": "Thủ tục không thuộc thẩm quyền giải quyết của UBND phường"},
    NoticeKind.SUPPLEMENT_REQUESTED: {
        "missing_items": ["Giấy chứng sinh (bản chính)", "Giấy chứng nhận kết hôn của cha mẹ (bản sao)"],
        "where_to_bring": f"Bộ phận Một cửa {_AGENCY}",
        "reason": "Hồ sơ còn thiếu giấy tờ theo quy định",
    },
    NoticeKind.TRANSFERRED: {"appointment_at": datetime(2026, 3, 27, 9, 30, tzinfo=VN_TZ)},
    NoticeKind.EXTENDED: {
        "reason": "cần xác minh thêm thông tin với cơ quan khác",
        "appointment_at": datetime(2026, 3, 20, 14, 0, tzinfo=VN_TZ),
        "new_appointment_at": datetime(2026, 3, 25, 14, 0, tzinfo=VN_TZ),
    },
    NoticeKind.RESULT_READY: {
        "pickup_place": f"Quầy số 2, Bộ phận Một cửa {_AGENCY}",
        "appointment_at": datetime(2026, 3, 20, 14, 0, tzinfo=VN_TZ),
    },
    NoticeKind.RESULT_POSTED: {},
    NoticeKind.STOPPED: {"reason": "người yêu cầu đã rút hồ sơ"},
    NoticeKind.REJECTED: {"reason": "người yêu cầu không thuộc đối tượng được giải quyết"},
}


def sample_context(kind: NoticeKind | str) -> NoticeContext:
    """Realistic values for template previews and snapshot tests."""
    return NoticeContext.model_validate({**_SAMPLE_BASE, **_SAMPLE_EXTRA[NoticeKind(kind)]})
