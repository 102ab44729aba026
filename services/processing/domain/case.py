"""The case aggregate: one dossier's journey through processing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from libs.calendar import WorkCalendar
from services.processing.domain.case_base import require_aware
from services.processing.domain.case_flow import FlowCommands
from services.processing.domain.case_outcome import OutcomeCommands
from services.processing.domain.case_pauses import PauseCommands
from services.processing.domain.events import SYSTEM, CaseEvent, CaseOpened
from services.processing.domain.plan import Owner, ProcedurePlan
from services.processing.domain.serialise import case_fields, case_to_dict
from services.processing.domain.states import CaseState
from services.processing.domain.steps import Step
from services.processing.domain.watch import DeadlineWatch


class Case(FlowCommands, PauseCommands, OutcomeCommands, DeadlineWatch):
    """Commands return the domain events they caused and raise IllegalTransition / NotAllowed."""

    @classmethod
    def open(
        cls,
        *,
        dossier_id: str,
        code: str,
        procedure: Mapping[str, Any],
        receiving_agency: str,
        received_at: datetime,
        now: datetime,
        calendar: WorkCalendar,
        competent_agency: str | None = None,
        appointment_at: datetime | None = None,
        actor: str = SYSTEM,
    ) -> tuple[Case, list[CaseEvent]]:
        """Take a received dossier (state 2) into processing; the receipt step starts at once.

        `appointment_at` is the date printed on Form 01 when the desk already computed it.
        """
        require_aware(received_at, "received_at")
        require_aware(now)
        plan = ProcedurePlan.from_snapshot(procedure)
        competent = competent_agency or plan.competent_agency or receiving_agency
        start = calendar.start_of_counting(received_at, plan.cutoff)
        due = appointment_at or calendar.due(received_at, plan.time_limit, plan.cutoff)
        agencies = {Owner.RECEIVING: receiving_agency, Owner.COMPETENT: competent}
        steps = [Step(p.code, p.name, p.owner.value, p.role, p.share, agencies[p.owner]) for p in plan.steps]
        case = cls(
            dossier_id=str(dossier_id), code=code, procedure=plan, receiving_agency=receiving_agency,
            competent_agency=competent, holder_agency=receiving_agency, state=CaseState.RECEIVED,
            received_at=received_at, appointment_at=due, original_appointment_at=due,
            total_hours=max(0.0, calendar.working_hours_between(start, due)), steps=steps, calendar=calendar,
        )
        case._start_next_here(start)
        opened = case._event(
            CaseOpened, actor, now, case.active_step, agency=receiving_agency, procedure_code=plan.code,
            received_at=received_at, appointment_at=due, receiving_agency=receiving_agency,
            competent_agency=competent, supplement_policy=plan.supplement_policy.value,
            total_hours=case.total_hours,
        )
        return case, [opened]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the calendar is not stored (it is configuration, passed back to from_dict)."""
        return case_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], calendar: WorkCalendar) -> Case:
        return cls(**case_fields(data), calendar=calendar)
