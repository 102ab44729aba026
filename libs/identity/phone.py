"""Vietnamese mobile numbers: accept +84 / 84 / 0 prefixes with spaces, dots, dashes or brackets;
return E.164 (`+84xxxxxxxxx`)."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

_SEPARATORS = re.compile(r"[\s.\-()]")
_COMPACT = re.compile(r"\+?\d+")
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
# Mobile prefixes after +84 (validator.js vi-VN, docs/domain.md §6.2). Used only as a fallback for prefixes that
# the phonenumbers metadata does not (yet) know as mobile, e.g. 055 (Reddi).
_VN_MOBILE_NSN = re.compile(r"(3[2-9]|5[25689]|7[06-9]|8[1-9]|9\d)\d{7}")


def _to_international(value: str) -> str:
    compact = _SEPARATORS.sub("", value)
    if not compact:
        raise ValueError("phone number is empty")
    if not _COMPACT.fullmatch(compact):
        raise ValueError("phone number may hold only digits, a leading +, spaces, dots, dashes or brackets")
    if compact.startswith("+"):
        return compact
    if compact.startswith("84") and len(compact) == 11:
        return "+" + compact
    if compact.startswith("0"):
        return "+84" + compact[1:]
    raise ValueError("phone number must start with +84, 84 or 0")


def normalise_phone(value: str) -> str:
    """Return the mobile number in E.164 form or raise ValueError with the reason."""
    if not isinstance(value, str):
        raise ValueError("phone number must be a string")
    international = _to_international(value)
    if international.startswith("+84") and _VN_MOBILE_NSN.fullmatch(international[3:]):
        return international  # a mobile prefix and length: what the full check below would return, cheaper
    try:
        number = phonenumbers.parse(international, None)
    except NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from exc
    if number.country_code != 84:
        raise ValueError(f"not a Vietnamese number (country code +{number.country_code})")
    if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in _MOBILE_TYPES:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    nsn = phonenumbers.national_significant_number(number)
    if _VN_MOBILE_NSN.fullmatch(nsn):
        return "+84" + nsn
    if phonenumbers.is_valid_number(number):
        raise ValueError("not a mobile number (landline or service number)")
    raise ValueError("not a valid Vietnamese mobile number (wrong length or prefix)")


def is_valid_mobile(value: str) -> bool:
    try:
        normalise_phone(value)
    except ValueError:
        return False
    return True
