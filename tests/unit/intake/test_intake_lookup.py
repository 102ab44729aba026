"""The citizen's look-up view: no personal data, digits compared safely, a next step for every state."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from services.intake.domain.desk import DeskDossier
from services.intake.domain.lookup import PublicStatus, id_matches, next_step, public_status
from services.intake.domain.states import DeskState
from services.intake.texts import label, next_step_text, texts

T0 = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
PII = {"applicant_name", "full_name", "personal_id", "phone", "email", "documents", "received_by", "officer",
       "refusal_reason", "rating", "comment", "address"}


def dossier(state: DeskState, **kw: object) -> DeskDossier:
    return DeskDossier(code="000.00.12.H55-260316-0001", receiving_agency="000.00.12.H55", state=state,
                       appointment_at=T0 + timedelta(days=2), **kw)  # type: ignore[arg-type]


def test_the_public_view_has_no_personal_fields() -> None:
    names = {f.name for f in dataclasses.fields(PublicStatus)}
    assert not names & PII, names & PII


@pytest.mark.parametrize("state", list(DeskState))
def test_every_state_has_a_label_and_a_next_step_sentence(state: DeskState) -> None:
    status = public_status(dossier(state), "Đăng ký khai sinh", T0)
    assert label("states", state.value) != state.value
    sentence = next_step_text(status.next_step, status.appointment_at)
    assert sentence and "{" not in sentence, (state, status.next_step)


def test_next_step_distinguishes_sub_states() -> None:
    assert next_step(dossier(DeskState.RESULT_READY, result_at_desk=True)) == "collect"
    assert next_step(dossier(DeskState.RESULT_READY)) == "result_on_the_way"
    assert next_step(dossier(DeskState.SUPPLEMENT_REQUESTED, supplement_submitted_at=T0)) == "supplement_handed_in"
    assert next_step(dossier(DeskState.RETURNED, handover_method="post")) == "returned_post"
    assert set(texts()["next_step"]) >= {"collect", "result_on_the_way", "supplement", "supplement_handed_in"}


def test_closed_dossiers_show_no_appointment_nor_step() -> None:
    status = public_status(dossier(DeskState.WITHDRAWN, current_step="Thẩm định"), "Đăng ký khai sinh", T0)
    assert status.appointment_at is None and status.current_step is None


def test_appointment_is_in_local_time_with_vietnamese_words() -> None:
    assert next_step_text("processing", T0) == (
        "Hồ sơ đang được giải quyết. Thời gian hẹn trả kết quả là 09 giờ 00 phút, ngày 16/03/2026."
    )


def test_id_digits_must_match_the_end_of_the_personal_id() -> None:
    assert id_matches("019190001234", "1234")
    assert not id_matches("019190001234", "0123")
    assert not id_matches("", "1234")
