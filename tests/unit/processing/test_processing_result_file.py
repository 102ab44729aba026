"""The signed result file (docs/domain.md §4.4): attached by the competent agency before the decision, the last one
current; a decision is electronic exactly when one is attached, and `case.result_ready` carries it."""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import uuid4

import pytest
from processing_support import CITY, WARD, at, at_city, first, open_case, result_document, types

from libs.contracts import processing as cp
from libs.contracts.common import DocumentKind
from libs.contracts.intake import ResultAttached
from services.processing.domain import Case, CaseState, IllegalTransition, NotAllowed, ResultFileConflict
from services.processing.domain.events import ResultReady
from services.processing.handlers import COMMANDS, EVENTS
from services.processing.staging import contract_of
from services.processing.views import event_from_dict


def at_the_decision() -> Case:
    """A city case at the city's signing step: received, transferred, assigned and verified."""
    case, _ = open_case()
    at_city(case, at(16, 10))
    case.complete_step("head1", at(16, 11))
    case.complete_step("spec1", at(17, 11))
    return case


def test_the_competent_agency_attaches_the_result_and_the_last_one_is_current() -> None:
    case = at_the_decision()
    earlier, later = result_document(), result_document()
    assert case.attach_result(earlier, CITY, "spec1", at(17, 12)) == []  # intake published the attachment
    case.attach_result(later, CITY, "head1", at(17, 13))
    attached = case.result_file
    assert attached is not None
    assert (attached.document_id, attached.attached_by, attached.agency) == (later["document_id"], "head1", CITY)
    assert attached.sha256 == "ab" * 32 and attached.attached_at == at(17, 13)
    stored = Case.from_dict(case.to_dict(), case.calendar)
    assert stored.result_file == attached


def test_another_agency_cannot_attach_the_result() -> None:
    case = at_the_decision()
    with pytest.raises(NotAllowed, match=re.escape(f"decided by {CITY}, not by {WARD}")):
        case.attach_result(result_document(), WARD, "desk1", at(17, 12))
    assert case.result_file is None


def test_a_paper_is_not_a_result() -> None:
    case = at_the_decision()
    with pytest.raises(NotAllowed, match="is not a result"):
        case.attach_result(result_document(DocumentKind.PAPER), CITY, "spec1", at(17, 12))
    assert case.result_file is None


def test_no_attachment_once_the_result_is_ready_or_the_case_closed() -> None:
    case = at_the_decision()
    case.approve("head1", at(17, 15))
    with pytest.raises(IllegalTransition, match="result_ready"):
        case.attach_result(result_document(), CITY, "head1", at(17, 16))
    stopped, _ = open_case()
    stopped.stop("desk1", "hồ sơ giả mạo", at(16, 10))
    with pytest.raises(IllegalTransition, match="stopped"):
        stopped.attach_result(result_document(), CITY, "head1", at(16, 11))
    assert case.result_file is None and stopped.result_file is None


def test_an_electronic_decision_needs_the_attached_result() -> None:
    case = at_the_decision()
    for decide in (lambda: case.approve("head1", at(17, 15), electronic=True),
                   lambda: case.mark_result_ready("head1", at(17, 15), electronic=True)):
        with pytest.raises(ResultFileConflict) as refused:
            decide()
        assert f"attach the signed result file first (intake: POST /api/v1/dossiers/{case.code}/result)" in (
            refused.value.reason)
    assert case.state is CaseState.PROCESSING and case.outcome is None  # nothing changed


def test_with_the_attached_result_the_decision_is_electronic_and_carries_it() -> None:
    case = at_the_decision()
    document = result_document()
    case.attach_result(document, CITY, "spec1", at(17, 12))
    with pytest.raises(ResultFileConflict, match="the result is electronic"):
        case.approve("head1", at(17, 15), electronic=False)  # a paper result while the file is attached
    events = case.approve("head1", at(17, 15))  # left out: the attachment decides
    assert types(events) == ["case.approved", "case.result_ready"]
    ready = first(events, ResultReady)
    assert ready.electronic and ready.manifest == (document,)

    published = contract_of(ready)
    assert isinstance(published, cp.ResultReady) and published.electronic
    assert [m.model_dump(mode="json") for m in published.manifest] == [document]
    assert published.manifest[0].kind is DocumentKind.RESULT
    assert event_from_dict(ready.to_dict()) == ready  # the event log gives it back for the slip


def test_without_a_file_the_result_stays_on_paper() -> None:
    case = at_the_decision()
    ready = first(case.approve("head1", at(17, 15)), ResultReady)
    assert (ready.electronic, ready.manifest) == (False, ())
    assert contract_of(ready).model_dump()["manifest"] == []
    rejected = at_the_decision()
    rejected.attach_result(result_document(), CITY, "spec1", at(17, 12))
    ready = first(rejected.reject("head1", "không đủ điều kiện", at(17, 15)), ResultReady)
    assert (ready.electronic, ready.manifest) == (False, ())  # a refusal is no signed result of the dossier


def test_intake_s_event_runs_the_attachment() -> None:
    case = at_the_decision()
    document = result_document()
    event = ResultAttached(dossier_id=uuid4(), code=case.code, agency=CITY, actor="spec1", at=at(17, 12),
                           manifest=[document])
    assert ResultAttached in EVENTS
    assert COMMANDS[ResultAttached](event)(case, at(17, 12) + timedelta(seconds=5)) == []
    assert case.result_file is not None and case.result_file.document == document
    assert case.result_file.attached_at == at(17, 12)  # when intake attached it, not when it arrived
