"""The rules of an electronic certified copy (chứng thực bản sao điện tử từ bản chính): pure, no I/O, no framework.

docs/domain.md §4.1 (Decree 23/2015/NĐ-CP amended by Decree 07/2025/NĐ-CP; Circular 01/2020/TT-BTP), §4.2, §4.3:
- the certification book (sổ chứng thực) is kept per year: numbers run from 01 and restart at 01 on 1 January,
  even when a book runs on into the next year;
- a certification number = order number in the book + book number (quyển số) + year + book-type code
  (SCT/BS for copies from originals);
- one number per document certified at one time, not per visit: the copies of one original (one document type)
  certified together share one number;
- the copy is due the same day, or the next working day when the request arrives after 15:00 (Art. 7, §2.1);
- assumption (§4.3): electronic certifications have their own book, numbered under a per-book lock;
- how OneStop applies all this to electronic copies: §4.5.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum
from typing import Any

from libs.calendar import TimeLimit, WorkCalendar

FIRST_NUMBER = 1  # §4.1: "numbering runs from 01"
BOOK_NO = 1  # quyển số: one electronic book a year until a ward needs a second (assumption, §4.3)
MAX_COPIES = 100  # copies of one original in one act; more is a typing slip, not a request
MAX_DOCUMENT_TYPE = 200
_REFERENCE = re.compile(r"^\s*0*(\d{1,9})\s*/\s*(\d{4})\s*$")  # leading zeros as printed: 05/2026


class BookType(StrEnum):
    """The book-type codes of §4.1; an electronic copy from an original goes into an SCT/BS book."""

    COPY = "SCT/BS"  # bản sao từ bản chính
    SIGNATURE = "SCT/CK,ĐC"  # chữ ký / điểm chỉ
    TRANSLATOR = "SCT/CKND"  # chữ ký người dịch
    CONTRACT = "SCT/HĐ,GD"  # hợp đồng, giao dịch


class Medium(StrEnum):
    """Paper and electronic certifications are numbered in separate books (§4.3, assumption)."""

    PAPER = "paper"
    ELECTRONIC = "electronic"


class Refused(ValueError):
    """A request the rules refuse as it stands; the message says why (never echoes personal data)."""


@dataclass(frozen=True)
class BookKey:
    """One book: an agency's book of one type and medium for one calendar year (the numbering restarts yearly)."""

    agency: str
    year: int
    book_type: BookType = BookType.COPY
    medium: Medium = Medium.ELECTRONIC


def book_for(agency: str, certified_at: datetime, tz: tzinfo, book_type: BookType = BookType.COPY,
             medium: Medium = Medium.ELECTRONIC) -> BookKey:
    """The book a certification made at `certified_at` is entered in: the year of the agency's local date, so
    00:30 on 1 January in Hà Nội (still 31 December in UTC) already opens the new year's book at 01."""
    if certified_at.tzinfo is None or certified_at.utcoffset() is None:
        raise ValueError("certified_at must be timezone-aware")
    return BookKey(agency, certified_at.astimezone(tz).year, book_type, medium)


@dataclass(frozen=True)
class CertificationNumber:
    """Order number + book number + year + book-type code (§4.1)."""

    order: int
    book: BookKey
    book_no: int = BOOK_NO

    @property
    def reference(self) -> str:
        """What a reader types to check a copy (with the file's SHA-256): "05/2026"."""
        return f"{self.order:02d}/{self.book.year}"

    @property
    def entry(self) -> str:
        """The act as an event names it when it served no dossier: "05/2026 SCT/BS"."""
        return f"{self.reference} {self.book.book_type.value}"

    @property
    def book_label(self) -> str:
        """The book as written after the number: "01/2026-SCT/BS"."""
        return f"{self.book_no:02d}/{self.book.year}-{self.book.book_type.value}"


def parse_reference(text: str) -> tuple[int, int]:
    """"05/2026" → (5, 2026): the order number and the year of a printed reference."""
    match = _REFERENCE.match(text)
    if match is None:
        raise Refused("a certification number is written as <number>/<year>, e.g. 05/2026")
    order, year = int(match.group(1)), int(match.group(2))
    if order < FIRST_NUMBER:
        raise Refused("certification numbers start at 01")
    return order, year


def next_numbers(last: int, count: int) -> range:
    """The next `count` numbers of a book whose last given number is `last` (0: a new book, so 01 first).

    Gap-free by construction: the caller holds the book's lock from reading `last` until it records `last +
    count`, and gives every number to a copy it records in the same transaction."""
    if last < 0:
        raise ValueError(f"a book's last number cannot be negative, got {last}")
    if count < 1:
        raise ValueError(f"at least one number is taken, got {count}")
    return range(last + FIRST_NUMBER, last + FIRST_NUMBER + count)


@dataclass(frozen=True)
class Original:
    """One original shown at the desk: its document type (as written in the book) and the copies asked for."""

    document_type: str
    copies: int = 1

    def __post_init__(self) -> None:
        name = " ".join(self.document_type.split())
        if not name:
            raise Refused("the document type is required (e.g. Giấy khai sinh)")
        if len(name) > MAX_DOCUMENT_TYPE:
            raise Refused(f"the document type is longer than {MAX_DOCUMENT_TYPE} characters")
        if not 1 <= self.copies <= MAX_COPIES:
            raise Refused(f"copies must be between 1 and {MAX_COPIES}")
        object.__setattr__(self, "document_type", name)

    @property
    def type_key(self) -> str:
        """Two spellings of one document type ("Giấy khai sinh", "giấy  khai sinh") are one type."""
        return self.document_type.casefold()


def number_groups(originals: Sequence[Original]) -> list[list[int]]:
    """Which originals of one act share a number: one number per document type certified at one time (§4.1),
    in the order the types first appear; each group lists positions in `originals`."""
    if not originals:
        raise Refused("nothing to certify")
    groups: dict[str, list[int]] = {}
    for position, original in enumerate(originals):
        groups.setdefault(original.type_key, []).append(position)
    return list(groups.values())


def due_at(received: datetime, calendar: WorkCalendar) -> datetime:
    """When the certified copy is due: closing of the day the request is received, or of the next working day
    when it is received strictly after 15:00:00 (or outside a working day) — Decree 23/2015 Art. 7, §2.1.

    Its own rule, whatever the procedure catalogue says: same-day limit with the cut-off."""
    return calendar.due(received, TimeLimit.same_day(), cutoff=True)


def counts_from_next_working_day(received: datetime, calendar: WorkCalendar) -> bool:
    """True when the request arrived after the cut-off (15:00:00 sharp still counts that day: §2.1 decision)."""
    return calendar.after_cutoff(received)


def check_received(received: datetime, now: datetime) -> None:
    if received.tzinfo is None or received.utcoffset() is None:
        raise Refused("received_at must carry its time zone")
    if received > now:
        raise Refused("received_at is in the future")


def vietnamese_date(day: date) -> str:
    """"ngày 07 tháng 12 năm 2026": the date as a certification statement writes it."""
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


@dataclass(frozen=True)
class Statement:
    """The inputs of the certification statement (lời chứng, Circular 01/2020/TT-BTP) stamped on the copy."""

    agency_name: str
    document_type: str
    copies: int
    number: CertificationNumber
    signer_name: str
    signer_title: str
    certified_at: datetime  # in the agency's local time

    def context(self) -> dict[str, Any]:
        """What the statement template (templates/statement.vi.txt.j2) is rendered with."""
        return {
            "agency_name": self.agency_name,
            "document_type": self.document_type,
            "copies": self.copies,
            "order": f"{self.number.order:02d}",
            "book_label": self.number.book_label,
            "reference": self.number.reference,
            "date_text": vietnamese_date(self.certified_at.date()),
            "time_text": self.certified_at.strftime("%H:%M"),
            "signer_name": self.signer_name,
            "signer_title": self.signer_title,
        }
