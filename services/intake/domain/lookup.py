"""The citizen's status look-up (tra cứu hồ sơ) by code + last 4 digits of the personal ID: pure rules.

The view carries no personal data: no name, ID number, phone, e-mail, papers or officer."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from services.intake.domain.desk import DeskDossier
from services.intake.domain.states import DeskState

LAST4 = re.compile(r"^\d{4}$")


@dataclass(frozen=True)
class PublicStatus:
    code: str
    state: DeskState
    procedure_name: str
    received_at: datetime
    appointment_at: datetime | None  # None when closed before a result or refused
    next_step: str  # key of the citizen-facing sentence (texts.vi.yaml → next_step)
    current_step: str | None  # name of the workflow step in progress (from the procedure, not personal)
    result_ready: bool
    rated: bool
    updated_at: datetime | None


def id_matches(personal_id: str, last4: str) -> bool:
    """Constant-time comparison, so response timing tells nothing about the digits."""
    return len(personal_id) >= 4 and hmac.compare_digest(personal_id[-4:].encode(), last4.encode())


def next_step(d: DeskDossier) -> str:
    state = d.state
    if state == DeskState.SUPPLEMENT_REQUESTED:
        return "supplement_handed_in" if d.supplement_handed_in else "supplement"
    if state == DeskState.RESULT_READY:
        return "collect" if d.result_at_desk else "result_on_the_way"
    if state == DeskState.RETURNED:
        return "returned_post" if d.handover_method == "post" else "returned"
    return state.value


def public_status(d: DeskDossier, procedure_name: str, received_at: datetime) -> PublicStatus:
    show_appointment = d.state not in {DeskState.REFUSED, DeskState.WITHDRAWN, DeskState.STOPPED}
    return PublicStatus(
        code=d.code,
        state=d.state,
        procedure_name=procedure_name,
        received_at=received_at,
        appointment_at=d.appointment_at if show_appointment else None,
        next_step=next_step(d),
        current_step=d.current_step if not d.state.closed else None,
        result_ready=d.state in {DeskState.RESULT_READY, DeskState.RETURNED},
        rated=d.rating is not None,
        updated_at=d.updated_at,
    )
