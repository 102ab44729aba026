"""Events owned by intake (the desk) on `onestop.intake.v1`."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from libs.contracts import topics
from libs.contracts.base import Event
from libs.contracts.common import Channel, Contact, DocumentSummary, ProcedureSnapshot


class IntakeEvent(Event):
    topic: ClassVar[str] = topics.INTAKE
    source: ClassVar[str] = "/onestop/intake"


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
