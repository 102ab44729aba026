"""The rules of online submission (docs/domain.md §5.2) and of the signed result (issue 17 §1): pure, no I/O."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr

from services.intake.domain.desk import IllegalMove, InvalidInput
from services.intake.domain.documents import Readers, check_result, may_attach_result
from services.intake.domain.states import DeskState
from services.intake.domain.submissions import (
    Decision,
    SubmissionState,
    check_online_level,
    check_upload,
    decide,
    outcome,
    submitter,
    token_matches,
    upload_token,
)
from services.intake.settings import IntakeSettings

AWAITING, ACCEPTED, REFUSED = SubmissionState.AWAITING_CHECK, SubmissionState.ACCEPTED, SubmissionState.REFUSED
SECRET = b"test-secret"
WARD, DEPARTMENT = "000.00.21.H55", "000.01.05.H55"


@pytest.mark.parametrize("level", ["full", "partial"])
def test_full_and_partial_procedures_take_online_submissions(level: str) -> None:
    check_online_level(level, "Đăng ký khai sinh")


def test_a_procedure_not_offered_online_is_refused_with_its_name() -> None:
    with pytest.raises(InvalidInput, match="Hòa giải"):
        check_online_level("none", "Hòa giải tranh chấp đất đai")


def test_files_join_only_while_the_desk_has_not_decided() -> None:
    check_upload(AWAITING)
    for state in (ACCEPTED, REFUSED):
        with pytest.raises(IllegalMove, match=state.value):
            check_upload(state)


def test_a_decision_is_made_once_and_the_same_decision_answers_again() -> None:
    assert decide(AWAITING, Decision.ACCEPT) and decide(AWAITING, Decision.REFUSE)
    assert not decide(ACCEPTED, Decision.ACCEPT) and not decide(REFUSED, Decision.REFUSE)
    with pytest.raises(IllegalMove):
        decide(ACCEPTED, Decision.REFUSE)
    with pytest.raises(IllegalMove):
        decide(REFUSED, Decision.ACCEPT)
    assert (outcome(Decision.ACCEPT), outcome(Decision.REFUSE)) == (ACCEPTED, REFUSED)


def test_the_upload_token_is_an_hmac_of_the_id_under_the_secret() -> None:
    one, other = uuid.uuid4(), uuid.uuid4()
    token = upload_token(SECRET, one)
    assert len(token) == 64 and token == upload_token(SECRET, one)
    assert token_matches(SECRET, one, token)
    assert not token_matches(SECRET, other, token) and not token_matches(b"another", one, token)
    assert not token_matches(SECRET, one, None) and not token_matches(SECRET, one, "")


def test_the_submitter_is_the_citizen_or_the_portal_client() -> None:
    assert submitter(None) == "citizen"
    assert submitter("dvcqg") == "portal:dvcqg"
    assert len(submitter("x" * 500)) == 100  # the column's length


def test_the_result_is_attached_by_the_competent_agency_once_it_may_read() -> None:
    before, after = Readers(WARD), Readers(WARD, frozenset({DEPARTMENT}))
    assert may_attach_result(WARD, before, WARD, {"specialist"})  # a ward procedure: the ward settles it
    assert may_attach_result(DEPARTMENT, after, DEPARTMENT, {"department_head"})
    assert may_attach_result(DEPARTMENT, after, DEPARTMENT, {"admin"})
    assert not may_attach_result(DEPARTMENT, before, DEPARTMENT, {"specialist"})  # not handed over yet
    assert not may_attach_result(DEPARTMENT, after, WARD, {"specialist"})  # the ward is not competent
    assert not may_attach_result(WARD, before, WARD, {"desk_officer"})


@pytest.mark.parametrize("state", [DeskState.RECEIVED, DeskState.PROCESSING, DeskState.SUPPLEMENT_REQUESTED,
                                   DeskState.PAYMENT_REQUESTED])
def test_a_result_is_attached_while_the_case_is_open(state: DeskState) -> None:
    check_result(state)


@pytest.mark.parametrize("state", [DeskState.RESULT_READY, DeskState.RETURNED, DeskState.REFUSED,
                                   DeskState.WITHDRAWN, DeskState.STOPPED])
def test_no_result_once_result_ready_or_closed(state: DeskState) -> None:
    with pytest.raises(IllegalMove, match=state.value):
        check_result(state)


def test_the_development_submission_secret_is_unsafe_outside_development() -> None:
    assert "ONESTOP_INTAKE_SUBMISSION_SECRET" in IntakeSettings().unsafe_outside_development()[0]
    assert IntakeSettings(submission_secret=SecretStr("a site's own secret")).unsafe_outside_development() == []
