"""Which forms a dossier has and the data they come from (pure), and the templates they render with."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pypdf
import pytest

from services.intake.domain.desk import InvalidInput
from services.intake.domain.forms import (
    Form,
    HistoryEntry,
    apology,
    book_period,
    control_rows,
    parse_form,
    promised_appointment,
    supplement_request,
    unavailable,
)
from services.intake.domain.states import DeskState
from services.intake.slips import html_to_pdf, render_html

T0 = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
WARD = "000.00.12.H55"


def entry(kind: str, hours: float, **kw: object) -> HistoryEntry:
    return HistoryEntry(kind=kind, at=T0 + timedelta(hours=hours), actor="can-bo-1", agency=WARD, **kw)  # type: ignore[arg-type]


HISTORY = [
    entry("case.opened", 0),
    entry("case.step_completed", 3, handover=True, receiver="chuyen-vien", receiver_agency=WARD, step_name="Tiếp nhận",
          timeliness="on_time"),
    entry("case.step_completed", 1, handover=True, receiver="lanh-dao", receiver_agency=WARD, step_name="Phân công",
          timeliness="early"),
    entry("case.supplement_requested", 4, data={"items": ["Bản sao giấy chứng sinh"], "reason": "Thiếu giấy tờ"}),
    entry("case.deadline_extended", 5, data={"reason": "Cần xác minh", "previous_appointment_at": T0.isoformat(),
                                             "appointment_at": (T0 + timedelta(days=2)).isoformat()}),
]


def test_forms_by_number_or_name() -> None:
    assert parse_form("01") is Form.RECEIPT and parse_form("control") is Form.CONTROL
    with pytest.raises(InvalidInput, match="unknown form"):
        parse_form("99")


def test_which_forms_a_dossier_has() -> None:
    assert unavailable(Form.RECEIPT, DeskState.RECEIVED, []) is None
    assert unavailable(Form.REFUSAL, DeskState.REFUSED, []) is None
    assert "Form 03" in str(unavailable(Form.REFUSAL, DeskState.RECEIVED, []))
    assert "Form 01" in str(unavailable(Form.RECEIPT, DeskState.REFUSED, []))
    assert "Form 02" in str(unavailable(Form.SUPPLEMENT, DeskState.PROCESSING, HISTORY[:3]))
    assert "Form 04" in str(unavailable(Form.APOLOGY, DeskState.PROCESSING, HISTORY[:3]))
    assert unavailable(Form.APOLOGY, DeskState.PROCESSING, HISTORY) is None


def test_control_slip_rows_are_the_hand_overs_in_time_order() -> None:
    rows = control_rows(HISTORY)
    assert [r.step_name for r in rows] == ["Phân công", "Tiếp nhận"]


def test_form_02_and_04_data_come_from_the_events() -> None:
    request = supplement_request(HISTORY)
    assert request is not None and request.items == ["Bản sao giấy chứng sinh"] and request.reason == "Thiếu giấy tờ"
    sorry = apology(HISTORY)
    assert sorry is not None and sorry.reason == "Cần xác minh"
    assert sorry.previous_appointment_at == T0 and sorry.appointment_at == T0 + timedelta(days=2)


def test_the_receipt_keeps_the_appointment_given_at_receipt() -> None:
    received = entry("dossier.received", 0, data={"appointment_at": "2026-03-17T10:00:00Z"})
    assert promised_appointment([received, *HISTORY]) == datetime(2026, 3, 17, 10, 0, tzinfo=UTC)
    assert promised_appointment(HISTORY) is None


def test_tracking_book_period() -> None:
    assert book_period(date(2026, 1, 1), date(2026, 3, 31)) == (date(2026, 1, 1), date(2026, 3, 31))
    with pytest.raises(InvalidInput, match="before it starts"):
        book_period(date(2026, 3, 1), date(2026, 2, 1))
    with pytest.raises(InvalidInput, match="at most"):
        book_period(date(2025, 1, 1), date(2026, 3, 1))


def context() -> dict[str, object]:
    return {
        "code": f"{WARD}-260316-0007", "issued_at": T0, "agency": {"name": "Ủy ban nhân dân phường Đức Xuân",
                                                                    "short_name": "Phường Đức Xuân"},
        "applicant": {"name": "Nguyễn Thị Lan", "personal_id": "019190001234", "phone": None, "email": None},
        "procedure": {"code": "1.001193", "name": "Đăng ký khai sinh"}, "channel": "Trực tiếp",
        "documents": [{"name": "Tờ khai", "copies": 1, "digitised": True, "e_certified_copy": False}],
        "received_at": T0, "appointment_at": T0 + timedelta(days=1), "time_limit": "trong ngày",
        "officer_name": "Trần Thị Hoa", "reason": "Không thuộc thẩm quyền <script>", "items": ["Giấy chứng sinh"],
        "has_code": True,
    }


@pytest.mark.parametrize("template", ["receipt", "refusal", "supplement"])
def test_templates_render_vietnamese_from_data_and_escape_it(template: str) -> None:
    html = render_html(template, context())
    assert f"{WARD}-260316-0007" in html and "Nguyễn Thị Lan" in html
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html and "ngày 16 tháng 03 năm 2026" in html
    assert "<script>" not in html


def test_receipt_shows_local_times() -> None:
    html = render_html("receipt", context())
    assert "09 giờ 00 phút, ngày 16 tháng 03 năm 2026" in html  # 02:00 UTC is 09:00 in Hà Nội


def test_pdf_keeps_the_diacritics() -> None:
    pdf = html_to_pdf(render_html("receipt", context()))
    assert pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text.upper() and "Nguyễn Thị Lan" in text
