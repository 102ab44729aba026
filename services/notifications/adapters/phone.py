"""Recipient phone numbers: Vietnamese mobiles normalised to E.164 by libs.identity (phonenumbers inside)."""

from __future__ import annotations

from libs.identity import normalise_phone


def normalise_mobile(raw: str) -> tuple[str | None, str]:
    """(E.164 number, "") when valid, else (None, reason). Never raises."""
    try:
        return normalise_phone(raw), ""
    except ValueError as exc:
        return None, str(exc)


def mask_phone(number: str) -> str:
    """For logs: +84912***678."""
    if len(number) <= 8:
        return "***"
    return f"{number[:6]}***{number[-3:]}"
