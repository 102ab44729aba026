"""Web addresses in the configuration: the SMS gateway and the citizens' look-up page linked from notices."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_NOT_IN_URL = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]")  # controls, spaces, line breaks


def check_web_address(value: str, what: str) -> str:
    """The value if it is an absolute http(s) address with a host, no credentials and nothing that would
    break a line of a notice or a header; else ValueError saying what is wrong."""
    if _NOT_IN_URL.search(value):  # first: urlsplit quietly drops tabs and line breaks
        raise ValueError(f"{what} must not contain spaces, line breaks or control characters")
    try:
        parts = urlsplit(value)
        _ = parts.port  # a port that is not a number is a ValueError here
    except ValueError as exc:
        raise ValueError(f"{what} is not a web address: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be an absolute http:// or https:// address with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{what} must not carry a user name or password")
    return value


def is_loopback_url(value: str) -> bool:
    """Whether the address names this machine (localhost, 127.0.0.0/8, ::1, 0.0.0.0)."""
    host = (urlsplit(value).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified
