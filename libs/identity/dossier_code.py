"""Dossier code (mã hồ sơ) `<agency e-ID>-<YYMMDD>-<NNNN>`, docs/domain.md §1.4.

NNNN is the agency's sequence for the receipt day: at least 4 digits, zero-padded, longer above 9999.
YY is read as 20YY.
"""

from __future__ import annotations

import re
from datetime import date
from typing import NamedTuple

from libs.identity.agency_eid import validate_agency_eid

_SEQ = re.compile(r"\d{4}|[1-9]\d{4,}")


class DossierCode(NamedTuple):
    agency_eid: str
    day: date
    seq: int

    def __str__(self) -> str:
        return format_dossier_code(self.agency_eid, self.day, self.seq)


def format_dossier_code(agency_eid: str, day: date, seq: int) -> str:
    eid = validate_agency_eid(agency_eid)
    if not 2000 <= day.year <= 2099:
        raise ValueError(f"dossier code year must be 2000-2099, got {day.year}")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ValueError(f"dossier sequence must be a positive integer, got {seq!r}")
    return f"{eid}-{day:%y%m%d}-{seq:04d}"


def parse_dossier_code(value: str) -> DossierCode:
    """Split a code into (agency e-ID, receipt date, sequence) or raise ValueError with the reason."""
    if not isinstance(value, str):
        raise ValueError("dossier code must be a string")
    parts = value.strip().upper().split("-")
    if len(parts) != 3:
        raise ValueError("dossier code must look like <agency e-ID>-<YYMMDD>-<NNNN>")
    eid, day_text, seq_text = parts
    eid = validate_agency_eid(eid)
    return DossierCode(eid, _parse_day(day_text), _parse_seq(seq_text))


def _parse_day(text: str) -> date:
    if not re.fullmatch(r"\d{6}", text):
        raise ValueError(f"dossier code date part must be 6 digits YYMMDD, got {text!r}")
    try:
        return date(2000 + int(text[:2]), int(text[2:4]), int(text[4:]))
    except ValueError as exc:
        raise ValueError(f"dossier code date part {text} is not a calendar date") from exc


def _parse_seq(text: str) -> int:
    if not _SEQ.fullmatch(text) or int(text) == 0:
        raise ValueError(
            f"dossier code sequence must be 0001-9999 or an unpadded number above 9999, got {text!r}"
        )
    return int(text)
