"""MIME encoding for the e-mails we send: RFC 2047 header words, header folding, quoted-printable bodies.

Written here rather than taken from the stdlib's EmailMessage API, which parses every header through
email.headerregistry and encodes bodies with the pure-Python quoprimime (~1.4 ms per message, a quarter of
the notifications service's CPU under load). binascii does the quoted-printable work in C.
tests/unit/notifications/test_notif_email_build.py proves the result reads back the same as the stdlib-built
message for every notice kind."""

from __future__ import annotations

import binascii
import re
from email.utils import formataddr
from functools import lru_cache

from services.notifications.domain.context import single_line, without_breaks

# The message is assembled from pre-encoded raw header values and quoted-printable payloads (binascii, in C):
# the EmailMessage API would parse every header through email.headerregistry and encode the bodies with the
# pure-Python quoprimime, ~1.4 ms per message. tests/unit/notifications/test_notif_email_build.py proves the
# result reads back the same as the stdlib-built message.
_MAX_LINE = 78  # RFC 5322 recommended header line length (the stdlib folder's limit)
_EW_PREFIX, _EW_SUFFIX = "=?utf-8?b?", "?="
_AFTER_SPACE = re.compile(r"(?<= )(?! )")  # between a space and the next word
_PLAIN_HEADER = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")  # printable ASCII words, single spaces


def encoded_words(value: str, first_room: int) -> list[str]:
    """RFC 2047 B encoded-words of the UTF-8 text, each fitting its line (first_room for the first, after the
    header name; _MAX_LINE - 1 after a folding space) and at most 75 characters. Words are cut after a space
    (the space stays inside the encoded text: whitespace between encoded-words is not text), a word longer
    than a line between two characters, never inside a UTF-8 sequence."""
    out: list[str] = []
    room = max(first_room, 20)  # room for a 4-byte character
    chunk = b""

    def flush() -> None:
        nonlocal chunk, room
        out.append(_EW_PREFIX + binascii.b2a_base64(chunk, newline=False).decode("ascii") + _EW_SUFFIX)
        chunk, room = b"", _MAX_LINE - 1

    for token in _AFTER_SPACE.split(value):
        data = token.encode("utf-8")
        limit = 3 * ((min(room, 75) - len(_EW_PREFIX) - len(_EW_SUFFIX)) // 4)  # bytes whose base64 fits
        if len(chunk) + len(data) <= limit:
            chunk += data
            continue
        if chunk:
            flush()
            limit = 3 * ((min(room, 75) - len(_EW_PREFIX) - len(_EW_SUFFIX)) // 4)
        while len(data) > limit:
            cut = limit
            while data[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: cut before its character
                cut -= 1
            chunk, data = data[:cut], data[cut:]
            flush()
            limit = 3 * ((min(room, 75) - len(_EW_PREFIX) - len(_EW_SUFFIX)) // 4)
        chunk = data
    if chunk or not out:
        flush()
    return out


def fold_header(name: str, tokens: list[str]) -> str:
    """Join tokens with single spaces, starting a new (indented) line where the next token would not fit."""
    lines: list[str] = []
    line = ""
    used = len(name) + 2
    for token in tokens:
        if line and used + 1 + len(token) > _MAX_LINE:
            lines.append(line)
            line, used = token, 1 + len(token)
        elif line:
            line += " " + token
            used += 1 + len(token)
        else:
            line, used = token, used + len(token)
    lines.append(line)
    return "\r\n ".join(lines)


def unstructured_header(name: str, value: str) -> str:
    """A raw unstructured header value: plain ASCII as is (folded at spaces), otherwise encoded-words (also
    for ASCII that would read as one, "=?"). The stdlib folder of Python 3.11 drops the space between folded
    encoded-words ("bổ sung,hoàn"): here the spaces are inside the encoded text. Control characters become
    spaces first: a CR/LF, even encoded, would read back as a line break inside the header."""
    value = without_breaks(value)
    if not value:
        return value
    if _PLAIN_HEADER.fullmatch(value) and "=?" not in value:
        return fold_header(name, value.split(" "))
    return fold_header(name, encoded_words(value, _MAX_LINE - len(name) - 2))


@lru_cache(maxsize=8)
def from_header(name: str | None, address: str) -> str:
    """The From value is the same for every message of a sender: encoded once. The display name is made one
    line (SmtpSettings refuses a name with line breaks; this holds for any caller)."""
    name = single_line(name) if name else None
    if not name:
        return address
    if _PLAIN_HEADER.fullmatch(name) and "=?" not in name:
        return fold_header("From", [formataddr((name, address))])
    return fold_header("From", [*encoded_words(name, _MAX_LINE - len("From") - 2), f"<{address}>"])


def quoted_printable(text: str) -> str:
    """UTF-8 quoted-printable body (RFC 2045) with LF line ends: soft breaks keep lines within 76 characters;
    '=', controls, 8-bit bytes and whitespace before a line end are escaped; the text ends with a line
    break, and CRLF or a lone CR is a line break (as email.contentmanager does)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    encoded = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True, header=False).decode("ascii")
    lines = encoded.split("\n")
    if max(map(len, lines)) <= 76:
        return encoded
    # binascii escapes whitespace before a line end ('=20', '=09') after its length check: such a line may
    # reach 78; a soft break before that last escape brings it back within 76 (RFC 2045)
    return "\n".join(f"{line[:-3]}=\n{line[-3:]}" if len(line) > 76 else line for line in lines)
