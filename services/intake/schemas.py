"""Request and response bodies of the desk API (validation errors become 422 with field reasons)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from libs.contracts.common import Channel
from libs.identity import AgencyEid, MobilePhone, PersonalId


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApplicantIn(_In):
    full_name: str = Field(min_length=2, max_length=200)
    personal_id: PersonalId
    phone: MobilePhone | None = None
    email: EmailStr | None = None


class DocumentIn(_In):
    name: str = Field(min_length=1, max_length=300)
    copies: int = Field(default=1, ge=1, le=100)
    digitised: bool = False  # scanned at the desk (số hóa)
    e_certified_copy: bool = False  # electronic certified copy requested (bản sao điện tử)


class DossierIn(_In):
    procedure_code: str = Field(min_length=1, max_length=64)
    channel: Channel
    applicant: ApplicantIn
    documents: list[DocumentIn] = Field(default_factory=list, max_length=100)
    # Only an admin may name another desk; for everyone else it must be the agency of their token.
    receiving_agency: AgencyEid | None = None


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
