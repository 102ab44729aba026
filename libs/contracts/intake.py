"""Events owned by intake (the desk) on `onestop.intake.v1`."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from libs.contracts import topics
from libs.contracts.base import Event
from libs.contracts.common import Channel, Contact, DocumentManifest, DocumentSummary, ProcedureSnapshot

# The scans an event announces: optional, so events written before issue 17 still parse.
Manifest = list[DocumentManifest]
MANIFEST_DOC = "the dossier's scans this event announces (references and hashes, never the bytes)"


class IntakeEvent(Event):
    topic: ClassVar[str] = topics.INTAKE
    source: ClassVar[str] = "/onestop/intake"

    agency: str = ""  # e-ID of the desk that acted
    actor: str = ""  # officer id, or "citizen" (a rating said "citizen" before issue 15; now its officer)
    at: datetime | None = None


class DossierReceived(IntakeEvent):
    """A complete dossier was accepted at the desk (Form 01 issued)."""

    ce_type: ClassVar[str] = "vn.onestop.dossier.received.v1"

    receiving_agency: str
    receiving_agency_name: str
    channel: Channel
    received_at: datetime
    appointment_at: datetime
    procedure: ProcedureSnapshot
    applicant: Contact
    documents: DocumentSummary = DocumentSummary()
    manifest: Manifest = Field(default_factory=list, description=MANIFEST_DOC)
    online_payment: bool | None = None
    submitted_at: datetime | None = Field(
        default=None, description="when the citizen or the portal filed it online (channel online only; the "
                                  "receipt and the appointment run from received_at, the desk's acceptance)")


class DossierRefused(IntakeEvent):
    """Refused at the desk (Form 03, Phiếu từ chối tiếp nhận); never enters the workflow."""

    ce_type: ClassVar[str] = "vn.onestop.dossier.refused.v1"

    receiving_agency: str
    receiving_agency_name: str
    procedure_code: str
    procedure_name: str
    channel: Channel
    reason: str
    applicant: Contact


class SupplementSubmitted(IntakeEvent):
    """The citizen handed in the papers a supplement request asked for (hồ sơ bổ sung)."""

    ce_type: ClassVar[str] = "vn.onestop.dossier.supplement_submitted.v1"

    documents: DocumentSummary = DocumentSummary()
    manifest: Manifest = Field(default_factory=list, description=MANIFEST_DOC)
    note: str = ""


class ResultAttached(IntakeEvent):
    """The competent agency attached its signed result file (kết quả điện tử); the case may now be marked
    result-ready as an electronic result. `manifest`: that one result (kind `result`)."""

    ce_type: ClassVar[str] = "vn.onestop.dossier.result_attached.v1"

    manifest: Manifest = Field(min_length=1, max_length=1, description="the signed result")


class CopyCertified(IntakeEvent):
    """A certification act entered in the agency's book (chứng thực bản sao từ bản chính, docs/domain.md §4.1):
    one number, `copies` copies, on paper or electronically. `dossier_id`/`code`: the dossier it served, or, for a
    certification outside any dossier, the book entry's own id and its printed reference (`05/2026 SCT/BS`)."""

    ce_type: ClassVar[str] = "vn.onestop.copy.certified.v1"

    medium: str  # paper | electronic
    book_type: str  # SCT/BS …
    number: int
    year: int
    copies: int = Field(ge=1)
    certified_at: datetime


class DossierWithdrawn(IntakeEvent):
    """Withdrawn at the applicant's request (rút hồ sơ)."""

    ce_type: ClassVar[str] = "vn.onestop.dossier.withdrawn.v1"

    reason: str = ""


class ResultHandedOver(IntakeEvent):
    """The result left the desk: handed to the citizen, or sent by post (trả kết quả)."""

    ce_type: ClassVar[str] = "vn.onestop.dossier.result_handed_over.v1"

    method: str  # in_person | post | online
    electronic_result: bool = False


class DossierRated(IntakeEvent):
    """The applicant's one satisfaction rating (đánh giá mức độ hài lòng), 1–5; `actor`: the officer who entered it."""

    ce_type: ClassVar[str] = "vn.onestop.dossier.rated.v1"

    rating: int
    comment: str = ""
