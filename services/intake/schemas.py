"""Request and response bodies of the desk API (validation errors become 422 with field reasons)."""

from __future__ import annotations

from datetime import datetime

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
    receiving_agency: AgencyEid | None = None


class DossierOut(BaseModel):
    id: str
    code: str
    state: str
    receiving_agency: str
    procedure_code: str
    procedure_name: str
    channel: str
    received_at: datetime
    appointment_at: datetime
