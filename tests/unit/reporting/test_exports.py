"""Form 06 exports: CSV (UTF-8 with BOM), XLSX in the form's layout, JSON."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from openpyxl import load_workbook

from services.reporting.domain import Form06, form06
from services.reporting.exports import form06_csv, form06_json, form06_xlsx, safe_cell

from .factory import CITY, MARCH, WARD, fact, vn


@pytest.fixture
def form() -> Form06:
    rows = [fact(channel="online", resolved_at=vn(2024, 3, 18, 9), extended_appointment_at=vn(2024, 3, 20)),
            fact(field="Chứng thực", resolved_at=vn(2024, 3, 5, 10)),
            fact(level="city", field="Đất đai", competent_agency=CITY)]
    return form06(rows, {WARD, CITY}, *MARCH)


def test_csv_has_a_bom_and_the_vietnamese_headers(form: Form06) -> None:
    data = form06_csv(form)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["STT", "Lĩnh vực giải quyết", "Số hồ sơ nhận giải quyết - Tổng số"]
    assert rows[0][4] == "Số hồ sơ nhận giải quyết - Trong đó - Trực tiếp, dịch vụ bưu chính"
    assert rows[1][:13] == [f"({n})" for n in range(1, 14)]
    assert rows[-1][:2] == ["", "Tổng cộng"]
    assert [int(v) for v in rows[-1][2:]] == [*form.total.columns(), 1]


def test_xlsx_opens_and_has_the_13_columns_with_their_headers(form: Form06) -> None:
    sheet = load_workbook(io.BytesIO(form06_xlsx(form, "UBND phường Nguyễn Thị Minh Khai"))).active
    assert sheet is not None

    def cell(ref: str) -> object:
        return sheet[ref].value

    assert cell("A2") == "UBND phường Nguyễn Thị Minh Khai"
    assert cell("A3") == "Kỳ báo cáo: từ 01/03/2024 đến 31/03/2024"
    assert [cell(r) for r in ("A4", "B4", "C4", "G4", "K4")] == [
        "STT", "Lĩnh vực giải quyết", "Số hồ sơ nhận giải quyết", "Số hồ sơ đã giải quyết",
        "Số hồ sơ đang giải quyết"]
    assert [cell(r) for r in ("C5", "D5", "G5", "H5", "I5", "J5", "K5", "L5", "M5")] == [
        "Tổng số", "Trong đó", "Tổng số", "Trước hạn", "Đúng hạn", "Quá hạn", "Tổng số", "Trong hạn", "Quá hạn"]
    assert [cell(r) for r in ("D6", "E6", "F6")] == ["Trực tuyến", "Trực tiếp, dịch vụ bưu chính", "Từ kỳ trước"]
    assert [sheet.cell(row=7, column=c).value for c in range(1, 15)] == [f"({n})" for n in range(1, 14)] + [None]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A4:A6", "B4:B6", "C4:F4", "G4:J4", "K4:M4", "D5:F5", "C5:C6", "H5:H6"} <= merged
    lines = [[sheet.cell(row=r, column=c).value for c in range(1, 14)] for r in range(8, 8 + 6)]
    assert lines[0][:3] == ["I", "Cấp tỉnh", 1]
    assert lines[-1] == [None, "Tổng cộng", *form.total.columns()]  # an empty STT is stored as no value


def test_json_is_serialisable_and_complete(form: Form06) -> None:
    data = json.loads(json.dumps(form06_json(form), ensure_ascii=False))
    assert data["form"] == "Biểu số 06/VPCP/KSTT"
    assert [c["id"] for c in data["column_legend"]][2:5] == ["TongSo", "TiepNhanTrucTuyen", "TiepNhanTrucTiep"]
    assert data["total"]["columns"]["3"] == 3 and data["total"]["late_with_apology"] == 1
    assert [s["label"] for s in data["sections"]] == ["Cấp tỉnh", "Cấp xã"]
    assert data["rules"]["attribute_to"] == "either"
    assert len(data["lines"]) == 6


# ---- hostile text: a spreadsheet must show it, never run it (OWASP CSV injection) ----------------------

HOSTILE = ["=HYPERLINK(\"http://evil.vn\",\"Bấm vào\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd",
           "\t=1+1", "\r=1+1", "  =1+1"]


@pytest.fixture
def hostile() -> Form06:
    rows = [fact(field=name, resolved_at=vn(2024, 3, 5, 10)) for name in HOSTILE]
    return form06([*rows, fact(field="Hộ tịch")], {WARD}, *MARCH)


def labels_of(rows: list[list[str]]) -> set[str]:
    return {row[1] for row in rows}


def test_csv_puts_a_quote_before_every_text_a_spreadsheet_would_run(hostile: Form06) -> None:
    rows = list(csv.reader(io.StringIO(form06_csv(hostile).decode("utf-8-sig"))))
    assert {"'" + name for name in HOSTILE} <= labels_of(rows)
    assert "Hộ tịch" in labels_of(rows)  # ordinary text as it was
    texts = [cell for row in rows for cell in row[:2]]
    assert not [t for t in texts if t and (t[0] in "=+-@\t\r" or t.lstrip()[:1] in "=+-@")]
    assert rows[-1][2:] == [str(n) for n in [*hostile.total.columns(), 0]]  # counts stay plain numbers


def test_xlsx_stores_hostile_text_as_quoted_text_and_no_formula(hostile: Form06) -> None:
    data = form06_xlsx(hostile, "=WEBSERVICE(\"http://evil.vn\")")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert sheet["A2"].value == "'=WEBSERVICE(\"http://evil.vn\")" and sheet["A2"].data_type == "s"
    cells = [sheet.cell(row=r, column=c) for r in range(8, sheet.max_row + 1) for c in (1, 2)]
    # openpyxl's own XML reader gives a CR back as LF, lxml (when installed) as CR; the quote leads it all the same
    read = {c.value.replace("\r", "\n") for c in cells if isinstance(c.value, str)}
    assert {("'" + name).replace("\r", "\n") for name in HOSTILE} <= read
    assert all(c.data_type == "s" for c in cells if c.value is not None)
    total = next(r for r in range(8, sheet.max_row + 1) if sheet.cell(row=r, column=2).value == "Tổng cộng")
    assert [sheet.cell(row=total, column=c).value for c in range(3, 14)] == list(hostile.total.columns())
    assert sheet.cell(row=total, column=3).data_type == "n"  # counts stay numbers
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        assert b"<f>" not in book.read("xl/worksheets/sheet1.xml")  # not one formula in the file


@pytest.mark.parametrize(("value", "shown"), [
    ("=1+1", "'=1+1"), ("-", "'-"), ("@", "'@"), ("\tx", "'\tx"), ("\rx", "'\rx"), (" +x", "' +x"),
    ("-5", "-5"), ("+84", "+84"), ("1.5", "1.5"), ("", ""), ("Hộ tịch", "Hộ tịch"), ("a=b", "a=b"),
    (3, 3), (None, None),
])
def test_safe_cell(value: object, shown: object) -> None:
    assert safe_cell(value) == shown
