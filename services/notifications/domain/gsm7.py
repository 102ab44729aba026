"""SMS text rules: unaccented Vietnamese (tiếng Việt không dấu) in the GSM-7 alphabet, and part counting."""

from __future__ import annotations

import unicodedata

# GSM 03.38 default alphabet (one septet each) and its extension table (escape + char = two septets).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
_GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION

SINGLE_GSM7, MULTI_GSM7 = 160, 153  # septets in one SMS / in each part of a concatenated SMS
SINGLE_UCS2, MULTI_UCS2 = 70, 67  # UTF-16 units, when a text is not GSM-7 at all

_REPLACEMENTS = {
    "đ": "d", "Đ": "D", "‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"',
    "–": "-", "—": "-", "…": "...", "•": "-", "·": ".", "\u00a0": " ", "\t": " ", "`": "'",
}  # fmt: skip
_REPLACEMENT_TABLE = str.maketrans(_REPLACEMENTS)


class _DropMarks(dict[int, str | None]):
    """str.translate table, filled as characters are met: combining marks → removed, others kept."""

    def __missing__(self, code: int) -> str | None:
        value = None if unicodedata.combining(chr(code)) else chr(code)
        if len(self) < 8192:  # bounded, whatever the input
            self[code] = value
        return value


_DROP_MARKS = _DropMarks()


def _strip_marks(text: str) -> str:
    return unicodedata.normalize("NFD", text).translate(_DROP_MARKS)


def to_gsm7_unaccented(text: str) -> str:
    """Drop Vietnamese diacritics (đ→d), map typographic punctuation, replace anything else by '?'."""
    mapped = text.translate(_REPLACEMENT_TABLE)
    plain = mapped if mapped.isascii() else unicodedata.normalize("NFC", _strip_marks(mapped))
    if _GSM7_ALL.issuperset(plain):
        return plain
    return "".join(ch if ch in _GSM7_ALL else "?" for ch in plain)


def is_gsm7(text: str) -> bool:
    return _GSM7_ALL.issuperset(text)


def gsm7_length(text: str) -> int:
    """Septets needed: extension characters count as two."""
    return sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)


def _units(text: str) -> tuple[list[int], int, int]:
    if is_gsm7(text):
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text], SINGLE_GSM7, MULTI_GSM7
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text], SINGLE_UCS2, MULTI_UCS2


def sms_parts(text: str) -> int:
    """Number of SMS parts the text needs (0 for an empty text).

    GSM-7: 160 septets fit one SMS, 153 per part once concatenated; an escape pair is never split across
    parts. Texts outside GSM-7 are counted as UCS-2 (70 / 67)."""
    units, single, multi = _units(text)
    if sum(units) <= single:
        return 1 if units else 0
    parts, used = 1, 0
    for size in units:
        if used + size > multi:
            parts, used = parts + 1, 0
        used += size
    return parts
