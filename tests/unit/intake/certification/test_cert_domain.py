"""The pure rules of an electronic certified copy (docs/domain.md §4): the book and its numbers (yearly restart,
one number per document type at one time), the printed number, the same-day / 15:00 rule, the statement's
inputs — and that the module stays pure."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from libs.calendar import load_calendar
from libs.settings import REPO_ROOT
from services.intake.certification.domain import (
    BookKey,
    BookType,
    CertificationNumber,
    Medium,
    Original,
    Refused,
    Statement,
    book_for,
    check_received,
    counts_from_next_working_day,
    due_at,
    next_numbers,
    number_groups,
    parse_reference,
    vietnamese_date,
)
from tests.unit.test_architecture import FRAMEWORKS, imports_of

CAL = load_calendar()
VN = ZoneInfo("Asia/Ho_Chi_Minh")
WARD = "000.00.12.H55"


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0, us: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, us, tzinfo=VN)


# --- the book and its numbers ----------------------------------------------------------------------------------

def test_a_new_book_starts_at_01_and_goes_on_without_gaps() -> None:
    assert list(next_numbers(0, 1)) == [1]
    assert list(next_numbers(41, 3)) == [42, 43, 44]


@pytest.mark.parametrize(("last", "count"), [(-1, 1), (0, 0)])
def test_impossible_number_requests_are_errors(last: int, count: int) -> None:
    with pytest.raises(ValueError):
        next_numbers(last, count)


def test_the_book_is_the_agencys_local_year_so_numbering_restarts_on_1_january_in_vietnam() -> None:
    new_year = vn(2027, 1, 1, 0, 30)  # still 31/12/2026 17:30 in UTC
    assert new_year.astimezone(UTC).year == 2026
    assert book_for(WARD, new_year, VN).year == 2027
    assert book_for(WARD, vn(2026, 12, 31, 23, 59, 59), VN).year == 2026
    assert book_for(WARD, new_year, VN) != book_for(WARD, vn(2026, 12, 31, 23, 59), VN)


def test_electronic_copies_have_their_own_sct_bs_book() -> None:
    book = book_for(WARD, vn(2026, 12, 8, 9), VN)
    assert (book.book_type, book.medium) == (BookType.COPY, Medium.ELECTRONIC)
    assert book != BookKey(WARD, 2026, BookType.COPY, Medium.PAPER)
    with pytest.raises(ValueError):
        book_for(WARD, datetime(2026, 12, 8, 9), VN)  # naive: which day it is depends on the zone


def test_the_number_is_written_with_its_book_and_year() -> None:
    number = CertificationNumber(5, BookKey(WARD, 2026))
    assert number.reference == "05/2026"
    assert number.book_label == "01/2026-SCT/BS"
    assert CertificationNumber(1234, BookKey(WARD, 2027), book_no=2).book_label == "02/2027-SCT/BS"
    assert number.entry == "05/2026 SCT/BS"  # how an act outside any dossier is named in its event
    paper = book_for(WARD, vn(2027, 1, 1, 0, 30), VN, medium=Medium.PAPER)
    assert (paper.year, paper.medium, CertificationNumber(1, paper).entry) == (2027, Medium.PAPER, "01/2027 SCT/BS")


@pytest.mark.parametrize(("text", "parsed"), [("05/2026", (5, 2026)), (" 1234 / 2027 ", (1234, 2027))])
def test_a_printed_reference_is_read_back(text: str, parsed: tuple[int, int]) -> None:
    assert parse_reference(text) == parsed


@pytest.mark.parametrize("text", ["05-2026", "2026", "00/2026", "x5/2026", "05/26", ""])
def test_a_malformed_reference_is_refused(text: str) -> None:
    with pytest.raises(Refused):
        parse_reference(text)


# --- one number per document type certified at one time ---------------------------------------------------------

def test_copies_of_one_document_type_share_a_number_and_each_type_gets_its_own() -> None:
    act = [Original("Giấy khai sinh", 3), Original("Bằng tốt nghiệp"), Original("giấy  khai   sinh", 1)]
    assert number_groups(act) == [[0, 2], [1]]
    assert number_groups([Original("Sổ hộ khẩu", 10)]) == [[0]]


def test_an_empty_act_is_refused() -> None:
    with pytest.raises(Refused, match="nothing to certify"):
        number_groups([])


@pytest.mark.parametrize(("document_type", "copies"), [("   ", 1), ("x" * 201, 1), ("Giấy khai sinh", 0),
                                                       ("Giấy khai sinh", 101)])
def test_an_original_needs_a_type_and_a_sensible_number_of_copies(document_type: str, copies: int) -> None:
    with pytest.raises(Refused):
        Original(document_type, copies)


def test_the_document_type_is_kept_as_written_with_spaces_tidied() -> None:
    assert Original("  Giấy   khai sinh ").document_type == "Giấy khai sinh"


# --- the same-day / 15:00 rule (Decree 23/2015 Art. 7; docs/domain.md §2.1, §4.1) -------------------------------

@pytest.mark.parametrize(("received", "after", "due"), [
    (vn(2026, 12, 8, 14, 59, 59), False, vn(2026, 12, 8, 17)),
    (vn(2026, 12, 8, 15, 0, 0), False, vn(2026, 12, 8, 17)),  # "sau 15 giờ": 15:00:00 sharp is still that day
    (vn(2026, 12, 8, 15, 0, 1), True, vn(2026, 12, 9, 17)),
    (vn(2026, 12, 8, 15, 0, 0, 1), True, vn(2026, 12, 9, 17)),
    (vn(2026, 12, 11, 15, 0, 1), True, vn(2026, 12, 14, 17)),  # Friday after 15:00 → Monday
    (vn(2026, 12, 31, 16, 0), True, vn(2027, 1, 4, 17)),  # 01/01 is a day off, then the weekend
])
def test_a_copy_is_due_the_same_day_or_the_next_working_day_after_15h(received: datetime, after: bool,
                                                                     due: datetime) -> None:
    assert counts_from_next_working_day(received, CAL) is after
    assert due_at(received, CAL) == due


def test_the_rule_holds_whatever_zone_the_moment_is_given_in() -> None:
    assert due_at(vn(2026, 12, 8, 15, 0, 1).astimezone(UTC), CAL) == vn(2026, 12, 9, 17)


def test_a_request_cannot_be_received_in_the_future_or_without_a_zone() -> None:
    now = vn(2026, 12, 8, 10)
    check_received(now, now)  # the same instant is fine
    with pytest.raises(Refused, match="future"):
        check_received(vn(2026, 12, 8, 10, 0, 1), now)
    with pytest.raises(Refused, match="time zone"):
        check_received(datetime(2026, 12, 8, 9), now)


# --- the statement's inputs ----------------------------------------------------------------------------------

def test_the_statement_writes_the_date_the_vietnamese_way() -> None:
    assert vietnamese_date(date(2026, 12, 7)) == "ngày 07 tháng 12 năm 2026"
    statement = Statement("Ủy ban nhân dân phường Đức Xuân", "Giấy khai sinh", 2,
                          CertificationNumber(7, BookKey(WARD, 2026)), "Nguyễn Văn An", "Phó Chủ tịch",
                          vn(2026, 12, 7, 9, 5))
    context = statement.context()
    assert context["order"] == "07" and context["book_label"] == "01/2026-SCT/BS"
    assert context["reference"] == "07/2026" and context["date_text"] == "ngày 07 tháng 12 năm 2026"
    assert context["time_text"] == "09:05" and context["copies"] == 2


# --- the house rule: the rules stay pure ---------------------------------------------------------------------

def test_the_domain_module_imports_no_framework_or_io() -> None:
    path: Path = REPO_ROOT / "services" / "intake" / "certification" / "domain.py"
    imported = set(imports_of(path.read_text(encoding="utf-8"), "services.intake.certification"))
    assert imported, "the check must see the module's imports"
    bad = sorted(m for m in imported if m.split(".")[0] in FRAMEWORKS | {"pyhanko", "jinja2", "services"})
    assert not bad, f"certification/domain.py imports {bad}: keep it pure"
