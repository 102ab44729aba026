"""Request and response bodies of online submission (docs/domain.md §5.2): the citizen's or the portal's filing,
the citizen's status, the desk's queue and decisions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from libs.identity import AgencyEid
from services.intake.api_documents import DocumentOut
from services.intake.domain.submissions import SubmissionState
from services.intake.schemas import _AGENCY, ApplicantIn, DocumentIn, _In


class SubmissionIn(_In):
    """A dossier filed online: the desk that is to receive it, the procedure, the applicant, the declared papers."""

    receiving_agency: Annotated[AgencyEid, _AGENCY]
    procedure_code: str = Field(min_length=1, max_length=64)
    applicant: ApplicantIn
    documents: list[DocumentIn] = Field(default_factory=list, max_length=100,
                                        description="the papers of the checklist the applicant declares")
    online_payment: bool | None = Field(default=None, description="the fee paid (or to be paid) online")


class SubmissionOut(BaseModel):
    id: uuid.UUID = Field(description="also the id of the dossier it becomes")
    state: SubmissionState
    receiving_agency: str
    procedure_code: str
    procedure_name: str
    submitted_at: datetime
    code: str | None = Field(description="the dossier code, once the desk decided")
    appointment_at: datetime | None = Field(description="once accepted: computed from the acceptance (§5.2)")
    refusal_reason: str | None
    documents: list[DocumentOut]
    upload_token: str | None = Field(
        description="send it as X-Submission-Token with each file; only in the answers to the submission itself")


class ApplicantOut(BaseModel):
    full_name: str
    personal_id: str
    phone: str | None
    email: str | None


class DeclaredPaperOut(BaseModel):
    name: str
    copies: int = 1


class SubmissionDeskOut(SubmissionOut):
    """What the desk checks before it decides (§5.2): who filed it and which papers they declared, beside the
    files. Only officers of the receiving agency see it."""

    applicant: ApplicantOut
    declared: list[DeclaredPaperOut] = Field(description="the papers the applicant declared, in their order")
    submitter: str = Field(description="citizen, or portal:<client> for the public-service portal")


class SubmissionStatusOut(BaseModel):
    """What the citizen may see with the submission id and the last 4 digits of the ID: no personal data."""

    id: uuid.UUID
    state: SubmissionState
    procedure_name: str
    submitted_at: datetime
    code: str | None
    appointment_at: datetime | None
    refusal_reason: str | None


class SubmissionRefusalIn(_In):
    reason: str = Field(min_length=1, max_length=1000)
