"""12-digit personal ID (số định danh cá nhân / CCCD): structure `AAA B CC DDDDDD`.

AAA = province code of birth registration, B = century + sex, CC = birth year (last two digits),
DDDDDD = serial. Source: docs/domain.md §6.2 (secondary; Circular 59/2021/TT-BCA unconfirmed).
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

# Province codes as issued before the 2025 merger (63 codes within 001-096; the gaps were never issued).
# Whether new codes follow the merger is unconfirmed, hence `known_provinces_only=False` below.
_ISSUED = (
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 035 036 037 "
    "038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 070 072 074 075 077 079 "
    "080 082 083 084 086 087 089 091 092 093 094 095 096"
)
PROVINCE_CODES: frozenset[str] = frozenset(_ISSUED.split(" "))

_PATTERN = re.compile(r"\d{12}")


class PersonalIdParts(NamedTuple):
    province_code: str
    sex: Literal["male", "female"]
    birth_year: int
    serial: str


def validate_personal_id(value: str, known_provinces_only: bool = True) -> str:
    """Return the 12-digit ID (surrounding spaces removed) or raise ValueError with the reason.

    With `known_provinces_only=False` any province code 001-096 is accepted (docs/domain.md §6.2: do not
    reject on the list alone if new codes appear).
    """
    if not isinstance(value, str):
        raise ValueError("personal ID must be a string of 12 digits")
    digits = value.strip()
    if not _PATTERN.fullmatch(digits):
        raise ValueError(f"personal ID must be exactly 12 digits, got {len(digits)} characters")
    province = digits[:3]
    if not 1 <= int(province) <= 96:
        raise ValueError(f"personal ID province code {province} is outside 001-096")
    if known_provinces_only and province not in PROVINCE_CODES:
        raise ValueError(f"personal ID province code {province} was never issued")
    return digits


def parse_personal_id(value: str, known_provinces_only: bool = True) -> PersonalIdParts:
    """Split a valid ID into its parts; B: even = male, odd = female; 0/1 = 1900s, 2/3 = 2000s, ..."""
    digits = validate_personal_id(value, known_provinces_only)
    century_sex = int(digits[3])
    century = 1900 + 100 * (century_sex // 2)
    sex: Literal["male", "female"] = "male" if century_sex % 2 == 0 else "female"
    return PersonalIdParts(digits[:3], sex, century + int(digits[4:6]), digits[6:])


def id_last4(value: str) -> str:
    """Last four digits of a valid personal ID (used for the citizen status look-up)."""
    return validate_personal_id(value, known_provinces_only=False)[-4:]
