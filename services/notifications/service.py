"""Service layer: which notices an event asks for, recorded once per (dossier, event, channel)."""

from __future__ import annotations

from datetime import datetime

from libs.contracts.intake import DossierReceived
from services.notifications.store import ContactRow, NoticeRow

CREATED = "created"


def contact_from(event: DossierReceived, now: datetime) -> ContactRow:
    a = event.applicant
    return ContactRow(
        dossier_id=event.dossier_id, code=event.code, full_name=a.full_name, phone=a.phone, email=a.email,
        agency_name=event.receiving_agency_name, updated_at=now,
    )


def notices_for(contact: ContactRow, kind: str, event_id: str, now: datetime) -> list[NoticeRow]:
    """One notice per channel the citizen can be reached on."""
    channels = [("sms", contact.phone), ("email", contact.email)]
    return [
        NoticeRow(
            key=f"{contact.dossier_id}:{event_id}:{channel}", dossier_id=contact.dossier_id, code=contact.code,
            event_id=event_id, kind=kind, channel=channel, recipient=recipient, status=CREATED,
            created_at=now, updated_at=now,
        )
        for channel, recipient in channels
        if recipient
    ]
