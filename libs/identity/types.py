"""Annotated types for pydantic models and request bodies (a failed check becomes a 422)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

from libs.identity.agency_eid import validate_agency_eid
from libs.identity.dossier_code import parse_dossier_code
from libs.identity.personal_id import validate_personal_id
from libs.identity.phone import normalise_phone


def _strict_eid(value: str) -> str:
    return validate_agency_eid(value, strict=True)


def _iso_only(value: Any) -> Any:
    """pydantic reads a number as Unix time (`0` → 1970-01-01); in our requests a date is ISO 8601 text."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number or (isinstance(value, str) and _numeric(value)):
        raise ValueError("a date or time is ISO 8601 text, e.g. 2026-06-10 or 2026-06-10T08:00:00+07:00")
    return value


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _canonical_dossier_code(value: str) -> str:
    return str(parse_dossier_code(value))


PersonalId = Annotated[str, AfterValidator(validate_personal_id)]
MobilePhone = Annotated[str, AfterValidator(normalise_phone)]
AgencyEid = Annotated[str, AfterValidator(validate_agency_eid)]
StrictAgencyEid = Annotated[str, AfterValidator(_strict_eid)]
DossierCodeStr = Annotated[str, AfterValidator(_canonical_dossier_code)]
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_only)]  # aware, and only from ISO 8601 text
IsoLocalDateTime = Annotated[datetime, BeforeValidator(_iso_only)]  # ISO 8601 text, with or without offset
IsoDate = Annotated[date, BeforeValidator(_iso_only)]  # YYYY-MM-DD, never a number read as Unix time
