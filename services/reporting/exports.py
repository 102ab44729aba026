"""Form 06 (Biểu số 06) as JSON, CSV and XLSX, all in memory (bytes / dict), Vietnamese headers."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from .domain.form06 import Form06, Form06Counts

FORM_NAME = "Biểu số 06/VPCP/KSTT"
FORM_TITLE = "Tình hình, kết quả giải quyết TTHC tại cơ quan, đơn vị trực tiếp giải quyết TTHC"
RECEIVED, RESOLVED, PENDING = "Số hồ sơ nhận giải quyết", "Số hồ sơ đã giải quyết", "Số hồ sơ đang giải quyết"
APOLOGY_HEADER = "Quá hạn có thư xin lỗi, hẹn lại (ngoài biểu)"

# (column number, field id in the national template, group, sub-group, name)
COLUMNS: tuple[tuple[int, str, str, str, str], ...] = (
    (1, "STT", "", "", "STT"),
    (2, "TenLinhVuc", "", "", "Lĩnh vực giải quyết"),
    (3, "TongSo", RECEIVED, "", "Tổng số"),
    (4, "TiepNhanTrucTuyen", RECEIVED, "Trong đó", "Trực tuyến"),
    (5, "TiepNhanTrucTiep", RECEIVED, "Trong đó", "Trực tiếp, dịch vụ bưu chính"),
    (6, "KyTruocChuyenSang", RECEIVED, "Trong đó", "Từ kỳ trước"),
    (7, "DaXuLy", RESOLVED, "", "Tổng số"),
    (8, "DaXuLyTruocHan", RESOLVED, "", "Trước hạn"),
    (9, "DaXuLyDungHan", RESOLVED, "", "Đúng hạn"),
    (10, "DaXuLyQuaHan", RESOLVED, "", "Quá hạn"),
    (11, "DangXuLy", PENDING, "", "Tổng số"),
    (12, "DangXuLyTrongHan", PENDING, "", "Trong hạn"),
    (13, "DangXuLyQuaHan", PENDING, "", "Quá hạn"),
)


def _local_dates(form: Form06) -> tuple[str, str]:
    """First and last local day of the period (period_to is exclusive), as dd/mm/yyyy."""
    tz = ZoneInfo(form.rules.timezone)
    first = form.period_from.astimezone(tz).date()
    last = (form.period_to - timedelta(microseconds=1)).astimezone(tz).date()
    return first.strftime("%d/%m/%Y"), last.strftime("%d/%m/%Y")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


# ---- spreadsheet formula injection (OWASP "CSV Injection") ------------------------------------------
# A text cell that starts with one of these is run as a formula by Excel / LibreOffice / Google Sheets
# (=, +, -, @; a tab or CR before them is skipped by some). Labels come from the catalogue and events, so a
# field named "=HYPERLINK(...)" would otherwise run on the reporting officer's machine.
_FORMULA_START = frozenset("=+-@\t\r\n")
_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")  # a genuine number written as text: left as it is


def safe_cell(value: object) -> object:
    """The value as a spreadsheet may show it without running it: numbers as they are; text that a
    spreadsheet would read as a formula (leading whitespace aside) behind a single quote, which shows it as
    text. Used for every text cell of the CSV and XLSX exports."""
    if not isinstance(value, str) or _NUMBER.fullmatch(value):
        return value
    if value[:1] in _FORMULA_START or value.lstrip(" \t\r\n")[:1] in _FORMULA_START:
        return "'" + value
    return value


# ---- JSON -------------------------------------------------------------------------------------------

def _counts_json(counts: Form06Counts) -> dict[str, Any]:
    return {"columns": dict(zip((str(n) for n in range(3, 14)), counts.columns(), strict=True)),
            **asdict(counts)}


def form06_json(form: Form06) -> dict[str, Any]:
    """A JSON-ready dict: metadata, the column legend and every printed line with its counts."""
    return {
        "form": FORM_NAME, "title": FORM_TITLE,
        "period_from": _iso(form.period_from), "period_to": _iso(form.period_to),
        "as_of": _iso(form.as_of), "cutoff": _iso(form.cutoff),
        "agencies": sorted(form.agencies), "rules": asdict(form.rules),
        "column_legend": [{"number": n, "id": ident, "group": group, "subgroup": sub, "name": name}
                          for n, ident, group, sub, name in COLUMNS],
        "sections": [{"level": s.level, "label": s.label, "counts": _counts_json(s.counts),
                      "rows": [{"field": r.field, "counts": _counts_json(r.counts)} for r in s.rows]}
                     for s in form.sections],
        "lines": [{"kind": line.kind, "stt": line.stt, "label": line.label, **_counts_json(line.counts)}
                  for line in form.lines()],
        "total": _counts_json(form.total),
    }


# ---- CSV --------------------------------------------------------------------------------------------

def _csv_header() -> list[str]:
    names = [" - ".join(part for part in (group, sub, name) if part) for _, _, group, sub, name in COLUMNS]
    return [*names, APOLOGY_HEADER]


def form06_csv(form: Form06) -> bytes:
    """UTF-8 with a BOM (so Excel shows the Vietnamese), a header line, a numbering line, then the lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_csv_header())
    writer.writerow([f"({n})" for n in range(1, 14)] + [""])
    for line in form.lines():
        writer.writerow([safe_cell(line.stt), safe_cell(line.label), *line.counts.columns(),
                         line.counts.late_with_apology])
    return buffer.getvalue().encode("utf-8-sig")


# ---- XLSX -------------------------------------------------------------------------------------------

_HEAD_TOP, _DATA_TOP = 4, 8  # header rows 4–6, numbering row 7, data from row 8
# (first column, last column, first row, last row, text) of each header cell
_HEADER_CELLS: tuple[tuple[int, int, int, int, str], ...] = (
    (1, 1, 4, 6, "STT"), (2, 2, 4, 6, "Lĩnh vực giải quyết"),
    (3, 6, 4, 4, RECEIVED), (3, 3, 5, 6, "Tổng số"), (4, 6, 5, 5, "Trong đó"),
    (4, 4, 6, 6, "Trực tuyến"), (5, 5, 6, 6, "Trực tiếp, dịch vụ bưu chính"), (6, 6, 6, 6, "Từ kỳ trước"),
    (7, 10, 4, 4, RESOLVED), (7, 7, 5, 6, "Tổng số"), (8, 8, 5, 6, "Trước hạn"), (9, 9, 5, 6, "Đúng hạn"),
    (10, 10, 5, 6, "Quá hạn"),
    (11, 13, 4, 4, PENDING), (11, 11, 5, 6, "Tổng số"), (12, 12, 5, 6, "Trong hạn"),
    (13, 13, 5, 6, "Quá hạn"),
)
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def form06_xlsx(form: Form06, title: str) -> bytes:
    """One sheet in the form's layout: title, period, two-level header, numbering row, lines, notes."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Biểu 06"
    _write_title(sheet, form, title)
    _write_header(sheet)
    row = _write_lines(sheet, form)
    _write_notes(sheet, form, row + 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _write_title(sheet: Any, form: Form06, title: str) -> None:
    first, last = _local_dates(form)
    lines = (f"{FORM_NAME} — {FORM_TITLE}", title, f"Kỳ báo cáo: từ {first} đến {last}")
    for row, text in enumerate(lines, start=1):
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=13)
        cell = _text_cell(sheet, row, 1, text)
        cell.font, cell.alignment = Font(bold=row < 3), _CENTER


def _write_header(sheet: Any) -> None:
    for first_col, last_col, first_row, last_row, text in _HEADER_CELLS:
        if (first_col, first_row) != (last_col, last_row):
            sheet.merge_cells(start_row=first_row, start_column=first_col,
                              end_row=last_row, end_column=last_col)
        for r in range(first_row, last_row + 1):
            for c in range(first_col, last_col + 1):
                sheet.cell(row=r, column=c).border = _BOX
        cell = sheet.cell(row=first_row, column=first_col, value=text)
        cell.font, cell.alignment = Font(bold=True), _CENTER
    for number in range(1, 14):
        cell = sheet.cell(row=_DATA_TOP - 1, column=number, value=f"({number})")
        cell.alignment, cell.border, cell.font = _CENTER, _BOX, Font(italic=True)
        width = {1: 6, 2: 40}.get(number, 13)
        sheet.column_dimensions[get_column_letter(number)].width = width


def _write_lines(sheet: Any, form: Form06) -> int:
    row = _DATA_TOP
    for line in form.lines():
        bold = line.kind != "row"
        values = [line.stt, line.label, *line.counts.columns()]
        for column, value in enumerate(values, start=1):
            cell = _text_cell(sheet, row, column, value) if isinstance(value, str) else sheet.cell(
                row=row, column=column, value=value)
            cell.border, cell.font = _BOX, Font(bold=bold)
            if column != 2:
                cell.alignment = _CENTER
        row += 1
    return row


def _write_notes(sheet: Any, form: Form06, row: int) -> None:
    notes = [
        f"{APOLOGY_HEADER}: {form.total.late_with_apology}",
        "Không tính hồ sơ bị từ chối tiếp nhận; hồ sơ rút, dừng xử lý tính đúng hạn"
        if form.rules.withdrawn_stopped_on_time else "Không tính hồ sơ bị từ chối tiếp nhận",
        f"Số liệu tính đến: {form.cutoff.astimezone(ZoneInfo(form.rules.timezone)):%H:%M %d/%m/%Y}",
    ]
    for offset, text in enumerate(notes):
        _text_cell(sheet, row + offset, 2, text).font = Font(italic=True)


def _text_cell(sheet: Any, row: int, column: int, text: str) -> Any:
    """A text cell that is never a formula: openpyxl stores a str starting with '=' as one, so the type is
    set after the value, and the text is neutralised as in the CSV."""
    cell = sheet.cell(row=row, column=column, value=safe_cell(text))
    if text:  # an empty text stays an empty cell
        cell.data_type = "s"
    return cell
