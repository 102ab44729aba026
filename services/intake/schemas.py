"""Request and response bodies of the desk API (validation errors become 422 with field reasons)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, WithJsonSchema

from libs.contracts.common import Channel
from libs.identity import PROVINCE_CODES, AgencyEid, MobilePhone, PersonalId

# What the validators accept, said in the OpenAPI document too (they stay the check; this is the document), so a
# client that follows the document is never refused for a value the document allows.
# Personal ID: 12 digits, the first three a province code that was issued.
_PERSONAL_ID = WithJsonSchema({"type": "string", "pattern": f"^(?:{'|'.join(sorted(PROVINCE_CODES))})[0-9]{{9}}$",
                               "description": "12 digits (CCCD), beginning with an issued province code"})
# Mobile: the canonical forms; the desk may also type spaces, dots, dashes or brackets between the digits.
_MOBILE = WithJsonSchema({
    "type": "string", "pattern": r"^(?:\+84|84|0)(?:3[2-9]|5[25689]|7[06-9]|8[1-9]|9[0-9])[0-9]{7}$",
    "description": "a Vietnamese mobile number, e.g. 0912345678 or +84912345678"})
# E-mail: the address shapes the check (email-validator) always takes; it refuses others, e.g. a special-use
# domain (`.test`, `.local`, `.invalid`) or a part after the @ without a dot.
_EMAIL = WithJsonSchema({
    "type": "string", "format": "email", "maxLength": 254, "description": "e.g. an.nguyen@example.vn",
    "pattern": r"^[A-Za-z0-9_+-]{1,30}(?:\.[A-Za-z0-9_+-]{1,30})?@(?:[A-Za-z0-9]{1,30}\.){1,3}"
               r"(?:vn|com|net|org|edu|gov|info)$"})
_AGENCY = WithJsonSchema({"type": "string", "pattern": r"^[A-Z0-9]+(?:\.[A-Z0-9]+)*$", "maxLength": 35,
                          "description": "agency e-ID, e.g. 000.00.21.H55"})


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApplicantIn(_In):
    full_name: str = Field(min_length=2, max_length=200)
    personal_id: Annotated[PersonalId, _PERSONAL_ID]
    phone: Annotated[MobilePhone, _MOBILE] | None = None
    email: Annotated[EmailStr, _EMAIL] | None = None


class DocumentIn(_In):
    name: str = Field(min_length=1, max_length=300)
    copies: int = Field(default=1, ge=1, le=100)
    digitised: bool = False  # scanned at the desk (số hóa)
    e_certified_copy: bool = False  # electronic certified copy requested (bản sao điện tử)


# The desk receives in person or by post; an online dossier comes only from a submission (issue 17 §2): `online`
# is refused with the reason (desk.ONLINE_AT_DESK), and the document says so.
_DESK_CHANNEL = WithJsonSchema({"type": "string", "enum": [Channel.IN_PERSON.value, Channel.POST.value],
                                "description": "in_person or post; an online dossier is filed through "
                                               "/api/v1/public/submissions"})


class DossierIn(_In):
    procedure_code: str = Field(min_length=1, max_length=64)
    channel: Annotated[Channel, _DESK_CHANNEL]
    applicant: ApplicantIn
    documents: list[DocumentIn] = Field(default_factory=list, max_length=100)
    # Only an admin may name another desk; for everyone else it must be the agency of their token.
    receiving_agency: Annotated[AgencyEid, _AGENCY] | None = None


class RefusalIn(DossierIn):
    """Form 03: the dossier gets a code and is refused with the reason (it never enters the workflow)."""

    reason: str = Field(min_length=3, max_length=2000)


class PaperApplicantIn(_In):
    full_name: str = Field(min_length=2, max_length=200)


class PaperRequestIn(_In):
    """Form 02 at the counter, before acceptance: which papers are missing or must be corrected."""

    procedure_code: str = Field(min_length=1, max_length=64)
    channel: Channel = Channel.IN_PERSON
    applicant: PaperApplicantIn
    items: list[str] = Field(min_length=1, max_length=50)
    reason: str = Field(min_length=3, max_length=2000)


class SupplementIn(_In):
    """The papers a supplement request asked for, handed in at the desk."""

    documents: list[DocumentIn] = Field(min_length=1, max_length=100)
    note: str = Field(default="", max_length=2000)


class WithdrawalIn(_In):
    reason: str = Field(default="", max_length=2000)


class HandoverIn(_In):
    method: Literal["in_person", "post"]


class RatingIn(_In):
    """Rất không hài lòng (1) · không hài lòng (2) · bình thường (3) · hài lòng (4) · rất hài lòng (5)."""

    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=1000)


class DossierOut(BaseModel):
    id: str
    code: str
    state: str
    receiving_agency: str
    procedure_code: str
    procedure_name: str
    channel: str
    received_at: datetime
    appointment_at: datetime | None
    state_code: int
    state_label: str
    sub_state: str | None = None
    current_step: str | None = None
    result_at_desk: bool = False
    refusal_reason: str | None = None
    received_by: str | None = None
    handover_method: str | None = None
    handed_over_at: datetime | None = None
    rating: int | None = None
    rated_at: datetime | None = None
    closed_at: datetime | None = None


class PaperRequestOut(BaseModel):
    id: str
    agency: str
    procedure_code: str
    procedure_name: str
    items: list[str]
    reason: str
    issued_at: datetime
    slip_url: str


class HistoryOut(BaseModel):
    event_type: str
    source: str
    at: datetime
    actor: str
    agency: str
    state: int | None
    sub_state: str | None
    handover: bool
    step_name: str | None
    note: str


class LookupOut(BaseModel):
    """What anyone with the code and the last 4 digits of the ID may see: no personal data."""

    code: str
    state: str
    state_code: int
    state_label: str
    procedure_name: str
    received_at: datetime
    appointment_at: datetime | None
    current_step: str | None
    next_step: str
    result_ready: bool
    rated: bool
    updated_at: datetime | None
