"""Annotated string types for pydantic models and request bodies (a failed check becomes a 422)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from libs.identity.agency_eid import validate_agency_eid
from libs.identity.dossier_code import parse_dossier_code
from libs.identity.personal_id import validate_personal_id
from libs.identity.phone import normalise_phone


def _strict_eid(value: str) -> str:
    return validate_agency_eid(value, strict=True)


def _canonical_dossier_code(value: str) -> str:
    return str(parse_dossier_code(value))


PersonalId = Annotated[str, AfterValidator(validate_personal_id)]
MobilePhone = Annotated[str, AfterValidator(normalise_phone)]
AgencyEid = Annotated[str, AfterValidator(validate_agency_eid)]
StrictAgencyEid = Annotated[str, AfterValidator(_strict_eid)]
DossierCodeStr = Annotated[str, AfterValidator(_canonical_dossier_code)]
