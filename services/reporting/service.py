"""Service layer: folding events into the read model."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from libs.contracts.intake import DossierReceived
from services.reporting.store import FactRecord

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def fact_from(event: DossierReceived) -> FactRecord:
    p = event.procedure
    return FactRecord(
        dossier_id=event.dossier_id, code=event.code, receiving_agency=event.receiving_agency,
        competent_agency=p.competent_agency, procedure_code=p.code, procedure_name=p.name, field=p.field,
        level=p.level, channel=event.channel.value, online_level=p.online_level,
        received_at=event.received_at, appointment_at=event.appointment_at,
        documents_total=event.documents.total, documents_digitised=event.documents.digitised,
    )
