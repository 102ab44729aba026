"""Indicators (Decision 766 as far as our data reaches) and the procedure review aid."""

from __future__ import annotations

from datetime import datetime

import pytest

from services.reporting.domain import FactRow, Rate, indicators, procedure_review
from services.reporting.domain.certifications import Certifications, Certified

from .factory import MARCH, WARD, fact, vn

RESOLVED = vn(2024, 3, 10, 9)


def scores(facts: list[FactRow]) -> dict[str, float | None]:
    return {s.code: s.points for s in indicators(facts, {WARD}, *MARCH).scores}


def test_e_certified_copy_rate_254_of_323_from_certification_acts() -> None:
    acts = Certifications(paper=Certified(69, 140), electronic=Certified(254, 300))
    rate = indicators([], {WARD}, *MARCH, certifications=acts).e_certified_copies
    assert (rate.numerator, rate.denominator, rate.percent()) == (254, 323, 78.6)  # acts, not copies
    assert scores([])["ELECTRONIC_CERTIFIED_COPY"] == 0.0
    points = {s.code: s.points for s in indicators([], {WARD}, *MARCH, certifications=acts).scores}
    assert points["ELECTRONIC_CERTIFIED_COPY"] == 2.0


def test_the_old_assumption_no_longer_counts_e_certified_copies() -> None:
    rows = [fact(e_certified_copies_requested=2, resolved_at=RESOLVED, electronic_result=True)]
    assert indicators(rows, {WARD}, *MARCH).e_certified_copies == Rate(0, 0)


def test_rates_without_a_denominator_are_none() -> None:
    result = indicators([], {WARD}, *MARCH)
    for rate in (result.on_time, result.online, result.dossiers_digitised, result.results_electronic,
                 result.e_certified_copies, result.online_payment, result.satisfaction):
        assert rate.denominator == 0 and rate.value is None and rate.percent() is None
    assert scores([])["PROGRESS_ON_TIME"] is None
    assert scores([])["DOSSIER_RECEIVING_SATISFACTION"] == 0  # nobody rated: no points


def test_on_time_rate_and_overdue_come_from_form06() -> None:
    rows = [fact(resolved_at=vn(2024, 3, 14, 9)), fact(resolved_at=vn(2024, 3, 15, 10)),
            fact(resolved_at=vn(2024, 3, 18, 9)), fact(resolved_at=vn(2024, 3, 20, 9), outcome="withdrawn"),
            fact()]  # pending, past its appointment at the end of March
    result = indicators(rows, {WARD}, *MARCH)
    assert (result.on_time.numerator, result.on_time.denominator) == (3, 4)
    assert (result.resolved_late, result.pending_overdue, result.overdue_total) == (1, 1, 2)
    assert scores(rows)["PROGRESS_ON_TIME"] == 15.0


def test_online_rate_counts_full_online_procedures_only() -> None:
    rows = [fact(channel="online"), fact(channel="in_person"), fact(channel="online", online_level="partial"),
            fact(channel="post", online_level="none")]
    assert indicators(rows, {WARD}, *MARCH).online == Rate(1, 2)
    assert scores(rows)["ONLINE_FULL_DOSSIERS"] == 6.0


def test_digitisation_of_dossiers_and_results() -> None:
    rows = [fact(documents_total=3, documents_scanned=4, items_scanned=3, resolved_at=RESOLVED,
                 electronic_result=True),  # every listed paper covered
            fact(documents_total=3, documents_digitised=3, documents_scanned=2, items_scanned=2, resolved_at=RESOLVED,
                 outcome="rejected"),  # one item without a scan: the old count alone no longer makes it digitised
            fact(documents_total=2, documents_digitised=2),  # counts only, no manifest: not digitised
            fact(channel="online", documents_scanned=1, items_scanned=1),  # online: a non-empty manifest
            fact(channel="online"),  # online, nothing in its manifest
            fact(documents_total=0, resolved_at=RESOLVED, outcome="withdrawn")]  # no papers, no result
    result = indicators(rows, {WARD}, *MARCH)
    assert result.dossiers_digitised == Rate(2, 5)
    assert result.results_electronic == Rate(1, 2)


def test_reuse_of_digitised_papers_full_at_80_percent() -> None:
    rows = [fact(documents_total=2, documents_scanned=5, documents_reused=4, items_scanned=2),
            fact(documents_total=1, documents_scanned=5, documents_reused=2, items_scanned=1)]
    result = indicators(rows, {WARD}, *MARCH)
    assert result.reuse == Rate(6, 10)
    assert scores(rows)["REUSE_DIGITISED_DATA"] == 1.5  # 2 × 0.6 / 0.8
    assert scores(rows[:1])["REUSE_DIGITISED_DATA"] == 2.0  # 80 %: full
    assert scores([])["REUSE_DIGITISED_DATA"] is None


def test_only_the_scores_from_recorded_data_are_no_longer_estimates() -> None:
    estimate = {s.code: s.estimate for s in indicators([], {WARD}, *MARCH).scores}
    assert {code for code, flag in estimate.items() if not flag} == {
        "ORIGINAL_RESULT_AVAILABLE", "SO_HOA_GIAY_TO_GIAI_QUYET", "ELECTRONIC_CERTIFIED_COPY",
        "REUSE_DIGITISED_DATA"}
    assert estimate["PROGRESS_ON_TIME"] and estimate["DOSSIER_RECEIVING_SATISFACTION"]


def test_online_payment_over_dossiers_with_a_fee() -> None:
    rows = [fact(online_payment=True), fact(online_payment=True), fact(online_payment=False), fact()]
    assert indicators(rows, {WARD}, *MARCH).online_payment == Rate(2, 3)


@pytest.mark.parametrize(("ratings", "rate", "points"), [
    ([5, 4, 4, 5, 5, 5, 5, 5, 5, 3], Rate(9, 10), 6.0),
    ([5, 2], Rate(1, 2), 3.33),
    ([None, None], Rate(0, 0), 0.0),
])
def test_satisfaction(ratings: list[int | None], rate: Rate, points: float) -> None:
    rows = [fact(resolved_at=RESOLVED, rating=r) for r in ratings]
    assert indicators(rows, {WARD}, *MARCH).satisfaction == rate
    assert scores(rows)["DOSSIER_RECEIVING_SATISFACTION"] == points
    assert next(s for s in indicators(rows, {WARD}, *MARCH).scores
                if s.code == "DOSSIER_RECEIVING_SATISFACTION").estimate


def test_processing_time_with_an_elapsed_callable_and_limits() -> None:
    def working_hours(start: datetime, end: datetime) -> float:
        return round((end - start).total_seconds() / 3600 / 3, 2)  # a stand-in for the calendar

    rows = [fact(received_at=vn(2024, 3, 5, 9), resolved_at=vn(2024, 3, 5, 15)),
            fact(received_at=vn(2024, 3, 5, 9), resolved_at=vn(2024, 3, 6, 9)),
            fact(resolved_at=RESOLVED, outcome="withdrawn")]  # no result: not in the time
    plain = indicators(rows, {WARD}, *MARCH)
    assert plain.time_basis == "calendar hours"
    assert plain.processing_times[0].average_hours == 15.0
    measured = indicators(rows, {WARD}, *MARCH, elapsed=working_hours, limit_hours={"1.001193": 8})
    (line,) = measured.processing_times
    assert (line.resolved, line.average_hours, line.limit_hours) == (2, 5.0, 8)
    assert measured.time_basis == "elapsed callable"


def test_procedure_review() -> None:
    def hours(start: datetime, end: datetime) -> float:
        return (end - start).total_seconds() / 3600

    births = [fact(received_at=vn(2024, 3, 4, 8), resolved_at=vn(2024, 3, 4, 8 + h)) for h in range(1, 11)]
    births += [fact(supplement_requested=1), fact(resolved_at=vn(2024, 3, 18, 9))]  # late
    copies = [fact(procedure_code="2.000815", procedure_name="Chứng thực bản sao", resolved_at=RESOLVED)]
    review = procedure_review(births + copies, {WARD}, *MARCH, elapsed=hours, limit_hours={"1.001193": 8})
    assert [line.procedure_code for line in review] == ["1.001193", "2.000815"]
    birth = review[0]
    assert (birth.received, birth.resolved, birth.p90_hours, birth.limit_hours) == (12, 11, 10, 8)
    assert birth.over_limit == Rate(3, 11)  # 9 h, 10 h and the late one
    assert birth.with_supplement == Rate(1, 12)
    assert birth.late == Rate(1, 11)
    assert review[1].over_limit == Rate(0, 0)  # no limit given
