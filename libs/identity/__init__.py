"""Identifier validators: personal ID, mobile phone, agency e-ID, dossier code (docs/domain.md §1.4, §6.2).

Each validator returns the normalised value or raises ValueError with an English reason.
"""

from libs.identity.agency_eid import validate_agency_eid
from libs.identity.dossier_code import DossierCode, format_dossier_code, parse_dossier_code
from libs.identity.personal_id import (
    PROVINCE_CODES,
    PersonalIdParts,
    id_last4,
    parse_personal_id,
    validate_personal_id,
)
from libs.identity.phone import is_valid_mobile, normalise_phone
from libs.identity.types import (
    AgencyEid,
    DossierCodeStr,
    IsoDate,
    IsoDateTime,
    IsoLocalDateTime,
    MobilePhone,
    PersonalId,
    StrictAgencyEid,
)

__all__ = [
    "PROVINCE_CODES",
    "AgencyEid",
    "DossierCode",
    "DossierCodeStr",
    "IsoDate",
    "IsoDateTime",
    "IsoLocalDateTime",
    "MobilePhone",
    "PersonalId",
    "PersonalIdParts",
    "StrictAgencyEid",
    "format_dossier_code",
    "id_last4",
    "is_valid_mobile",
    "normalise_phone",
    "parse_dossier_code",
    "parse_personal_id",
    "validate_agency_eid",
    "validate_personal_id",
]
