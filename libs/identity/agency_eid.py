"""Agency electronic ID (mã định danh điện tử, Decision 20/2020/QĐ-TTg), docs/domain.md §1.4.

Strict form: 13 characters `V1V2V3.Z1Z2.Y1Y2.L1`, level-1 code last (a letter and two digits, H = provincial
People's Committee), e.g. `000.00.00.H55`. Loose form: `[A-Z0-9.]`, at most 35 characters.
"""

from __future__ import annotations

import re

MAX_LENGTH = 35
_LOOSE = re.compile(r"[A-Z0-9]+(\.[A-Z0-9]+)*")
_STRICT = re.compile(r"[A-Z0-9]{3}\.[A-Z0-9]{2}\.[A-Z0-9]{2}\.[A-Z]\d{2}")


def validate_agency_eid(value: str, strict: bool = False) -> str:
    """Return the e-ID (spaces trimmed) or raise ValueError with the reason."""
    if not isinstance(value, str):
        raise ValueError("agency e-ID must be a string")
    eid = value.strip()
    if not eid:
        raise ValueError("agency e-ID is empty")
    if len(eid) > MAX_LENGTH:
        raise ValueError(f"agency e-ID is {len(eid)} characters, at most {MAX_LENGTH} allowed")
    if not _LOOSE.fullmatch(eid):
        raise ValueError(
            "agency e-ID may contain only capital letters A-Z, digits and single dots between groups"
        )
    if strict and not _STRICT.fullmatch(eid):
        raise ValueError(
            "agency e-ID must have the Decision 20/2020 form V1V2V3.Z1Z2.Y1Y2.L1 "
            "(13 characters, level-1 code last as a letter and two digits, e.g. 000.00.00.H55)"
        )
    return eid
