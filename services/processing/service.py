"""Service layer: turns a received dossier into an open case and the event that announces it."""

from __future__ import annotations

from datetime import datetime

from libs.contracts.intake import DossierReceived
from libs.contracts.processing import CaseOpened
from services.processing.store import CaseRow

OPEN_STATE = "received"  # Được tiếp nhận: waiting for assignment


def open_case(event: DossierReceived, now: datetime) -> tuple[CaseRow, CaseOpened]:
    first_owner = event.procedure.steps[0].owner if event.procedure.steps else "receiving"
    holder = event.receiving_agency if first_owner == "receiving" else event.procedure.competent_agency
    row = CaseRow(
        dossier_id=event.dossier_id,
        code=event.code,
        procedure_code=event.procedure.code,
        receiving_agency=event.receiving_agency,
        competent_agency=event.procedure.competent_agency,
        holder_agency=holder,
        state=OPEN_STATE,
        appointment_at=event.appointment_at,
        opened_at=now,
        updated_at=now,
        data={"procedure": event.procedure.model_dump(mode="json")},
    )
    opened = CaseOpened(
        dossier_id=event.dossier_id, code=event.code, actor="system", agency=holder, at=now, state=2,
        procedure_code=event.procedure.code, received_at=event.received_at, appointment_at=event.appointment_at,
        receiving_agency=event.receiving_agency, competent_agency=event.procedure.competent_agency,
        supplement_policy=event.procedure.supplement_policy, total_hours=0.0,
    )
    return row, opened
