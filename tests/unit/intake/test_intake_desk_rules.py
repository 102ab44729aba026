"""The desk's state machine: following processing, and the moves at the counter (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.intake.domain.desk import (
    CaseUpdate,
    DeskDossier,
    IllegalMove,
    InvalidInput,
    follow,
    hand_in_supplement,
    hand_over,
    rate,
    withdraw,
)
from services.intake.domain.states import CLOSED, WITHDRAWABLE, DeskState

WARD = "000.00.12.H55"
CITY = "000.01.05.H55"
T0 = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)


def dossier(state: DeskState = DeskState.RECEIVED) -> DeskDossier:
    return DeskDossier(code=f"{WARD}-260316-0001", receiving_agency=WARD, state=state,
                       appointment_at=T0 + timedelta(days=3))


def update(kind: str, state: int, hours: float = 1, agency: str = WARD, **kw: Any) -> CaseUpdate:
    return CaseUpdate(kind=kind, state_code=state, agency=agency, at=T0 + timedelta(hours=hours), **kw)


def test_state_codes_are_the_dvcqg_list() -> None:
    assert [s.code for s in DeskState] == list(range(1, 11))
    assert DeskState.from_code(9) is DeskState.RESULT_READY
    with pytest.raises(ValueError):
        DeskState.from_code(11)


def test_follow_takes_state_step_and_appointment_from_processing() -> None:
    d = dossier()
    new_date = T0 + timedelta(days=5)
    assert follow(d, update("case.step_completed", 4, step_name="Thẩm định"))
    assert d.state == DeskState.PROCESSING and d.current_step == "Thẩm định"
    assert not follow(d, update("case.deadline_extended", 4, 2, appointment_at=new_date))
    assert d.appointment_at == new_date


def test_a_closed_dossier_is_not_reopened_by_a_late_workflow_event() -> None:
    d = dossier()
    withdraw(d, T0)
    assert not follow(d, update("case.step_completed", 4))
    assert d.state == DeskState.WITHDRAWN
    assert {DeskState.REFUSED, DeskState.WITHDRAWN, DeskState.STOPPED, DeskState.RETURNED} == CLOSED


def test_warnings_do_not_move_the_dossier() -> None:
    d = dossier(DeskState.PROCESSING)
    for kind in ("case.due_soon", "case.overdue", "case.transfer_ack_overdue"):
        assert not follow(d, update(kind, 2))
    assert d.state == DeskState.PROCESSING


def test_supplement_cycle() -> None:
    d = dossier(DeskState.PROCESSING)
    with pytest.raises(IllegalMove, match="no supplement was requested"):
        hand_in_supplement(d, T0)
    follow(d, update("case.supplement_requested", 5, sub_state="citizen_supplement"))
    hand_in_supplement(d, T0 + timedelta(hours=2))
    assert d.supplement_handed_in and d.sub_state == "citizen_submitted"
    with pytest.raises(IllegalMove, match="already handed in"):
        hand_in_supplement(d, T0 + timedelta(hours=3))
    follow(d, update("case.payment_received", 5, 4, sub_state="citizen_supplement"))  # processing still waits
    assert d.supplement_handed_in and d.sub_state == "citizen_submitted"
    follow(d, update("case.supplement_received", 4, 5))
    assert d.state == DeskState.PROCESSING and d.supplement_submitted_at is None
    follow(d, update("case.supplement_requested", 5, 6))  # a second request opens a new cycle
    hand_in_supplement(d, T0 + timedelta(hours=7))


def test_hand_over_only_when_the_result_is_at_this_desk() -> None:
    d = dossier(DeskState.PROCESSING)
    with pytest.raises(IllegalMove, match="not result_ready"):
        hand_over(d, "in_person", T0)
    follow(d, update("case.result_ready", 9, agency=CITY, sub_state="result_available"))
    with pytest.raises(IllegalMove, match="not reached this desk"):
        hand_over(d, "in_person", T0)
    follow(d, update("case.result_returned", 9, 2, agency=CITY, sub_state="awaiting_confirmation"))
    assert not d.result_at_desk
    follow(d, update("case.transfer_acknowledged", 9, 3, sub_state="at_return_desk"))
    with pytest.raises(InvalidInput, match="unknown hand-over method"):
        hand_over(d, "drone", T0)
    hand_over(d, "post", T0 + timedelta(hours=4))
    assert d.state == DeskState.RETURNED and d.handover_method == "post" and d.closed_at is not None
    with pytest.raises(IllegalMove, match="returned"):
        hand_over(d, "in_person", T0 + timedelta(hours=5))


def test_result_ready_without_sub_state_counts_as_at_desk_when_the_ward_resolved_it() -> None:
    d = dossier(DeskState.PROCESSING)
    follow(d, update("case.result_ready", 9, agency=WARD, electronic=True))
    assert d.result_at_desk and d.electronic_result


@pytest.mark.parametrize("state", list(DeskState))
def test_withdrawal_is_allowed_only_while_the_dossier_is_being_worked_on(state: DeskState) -> None:
    d = dossier(state)
    if state in WITHDRAWABLE:
        withdraw(d, T0)
        assert d.state == DeskState.WITHDRAWN and d.closed_at == T0
    else:
        with pytest.raises(IllegalMove, match="cannot withdraw"):
            withdraw(d, T0)
        assert d.state == state


def test_one_rating_per_dossier_from_1_to_5() -> None:
    d = dossier(DeskState.RETURNED)
    for bad in (0, 6, -1):
        with pytest.raises(InvalidInput):
            rate(d, bad, T0)
    rate(d, 4, T0)
    assert (d.rating, d.rated_at) == (4, T0)
    with pytest.raises(IllegalMove, match=r"already rated \(4\).*one rating per dossier"):
        rate(d, 5, T0 + timedelta(minutes=1))
    assert d.rating == 4


def test_a_refused_dossier_may_be_rated_but_not_a_submitted_one() -> None:
    rate(dossier(DeskState.REFUSED), 2, T0)
    with pytest.raises(IllegalMove, match="not been received"):
        rate(dossier(DeskState.SUBMITTED), 3, T0)
