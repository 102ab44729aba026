"""Every procedure of the demo catalogue runs from receipt to hand-over on the real calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from processing_support import at, calendar

from libs.catalogue import Catalogue, load_catalogue
from services.processing.domain import Case, CaseEvent, CaseState, control_slip

DAY = date(2026, 3, 16)
CAL = calendar()
DECISION_STEPS = {"approve", "sign"}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    try:
        return load_catalogue()
    except Exception as exc:  # the catalogue is another module's configuration
        pytest.skip(f"catalogue not loadable: {exc}")


def drive(case: Case) -> list[CaseEvent]:
    """Play an officer who does each step on time (one working hour each) until the citizen has the result."""
    events: list[CaseEvent] = []
    now = at(16, 9)
    while case.state is not CaseState.RETURNED:
        now = CAL.add_working_hours(now, 1)
        events += next_move(case, now)
        assert len(events) < 50
    return events


def next_move(case: Case, now: datetime) -> list[CaseEvent]:
    step, following = case.active_step, case.next_step
    if case.pending_handoff is not None:
        return case.acknowledge_transfer("clerk", now)
    if case.state is CaseState.RESULT_READY and case.holder_agency != case.receiving_agency:
        if following is not None and following.agency == case.holder_agency:
            return case.complete_step("clerk", now)
        return case.return_result("clerk", now)
    if case.state is CaseState.RESULT_READY and (step is None or step.code == "return"):
        return case.result_handed_over(now, "in_person", actor="desk")
    if step is not None and case.state is CaseState.PROCESSING and step.code in DECISION_STEPS:
        return case.approve("head", now)
    if following is not None and following.agency != case.holder_agency:
        return case.transfer("desk", following.agency, now)
    return case.complete_step("officer", now)


def test_every_catalogue_procedure_runs_to_the_end(catalogue: Catalogue) -> None:
    ward = catalogue.agencies("ward")[0].eid
    versions = catalogue.procedures(DAY)
    assert versions
    for version in versions:
        snapshot = catalogue.snapshot(version.code, DAY, ward)
        case, opened = Case.open(
            dossier_id="d", code=f"{ward}-260316-0001", procedure=snapshot, receiving_agency=ward,
            received_at=at(16, 9), now=at(16, 9), calendar=CAL,
        )
        events = opened + drive(case)
        assert case.state is CaseState.RETURNED and case.outcome == "approved", version.code
        assert all(s.completed_at is not None for s in case.steps), version.code
        rows = control_slip(events)
        assert [r.step_code for r in rows if r.step_code] == [s.code for s in case.steps], version.code
        assert case.appointment_at - case.received_at >= timedelta(0)
