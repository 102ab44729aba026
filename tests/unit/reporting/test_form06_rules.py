"""Table tests for each Form 06 counting rule."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import pytest

from services.reporting.domain import CountingRules, FactRow, Form06Counts, IdentityError, form06

from .factory import CITY, MARCH, OTHER_WARD, WARD, fact, vn

APPOINTMENT = vn(2024, 3, 15, 16, 0)


def total(facts: list[FactRow], as_of: datetime | None = None, **rules: Any) -> Form06Counts:
    form = form06(facts, {WARD}, *MARCH, as_of=as_of, rules=CountingRules(**rules))
    form.check_identities()
    return form.total


def resolved_bucket(counts: Form06Counts) -> str:
    assert counts.resolved_total == 1
    hits = [name for name in ("resolved_early", "resolved_on_time", "resolved_late") if getattr(counts, name)]
    assert len(hits) == 1
    return hits[0].removeprefix("resolved_")


@pytest.mark.parametrize(("appointment", "resolved", "expected"), [
    (APPOINTMENT, vn(2024, 3, 14, 17, 0), "early"),  # a day before
    (APPOINTMENT, vn(2024, 3, 15, 8, 0), "on_time"),  # the appointment day, before the time
    (APPOINTMENT, vn(2024, 3, 15, 16, 0), "on_time"),  # exactly at the appointment
    (APPOINTMENT, vn(2024, 3, 15, 16, 0, 59), "on_time"),  # within the appointment minute
    (APPOINTMENT, vn(2024, 3, 15, 16, 1), "late"),  # the next minute
    (APPOINTMENT, vn(2024, 3, 18, 9, 0), "late"),
    # the local date decides early vs on time (00:00 in Hà Nội is 17:00 UTC the day before)
    (vn(2024, 3, 15, 8, 0), vn(2024, 3, 14, 23, 59), "early"),
    (vn(2024, 3, 15, 8, 0), vn(2024, 3, 15, 0, 0), "on_time"),
])
def test_early_on_time_late_boundaries(appointment: datetime, resolved: datetime, expected: str) -> None:
    counts = total([fact(appointment_at=appointment, resolved_at=resolved)])
    assert resolved_bucket(counts) == expected


def test_judged_to_the_instant_when_minute_rule_is_off() -> None:
    row = fact(appointment_at=APPOINTMENT, resolved_at=vn(2024, 3, 15, 16, 0, 30))
    assert resolved_bucket(total([row], judge_to_minute=False)) == "late"
    assert resolved_bucket(total([row])) == "on_time"


def test_extension_does_not_rescue_a_late_dossier_but_the_apology_is_shown() -> None:
    late = fact(resolved_at=vn(2024, 3, 18, 9), extended_appointment_at=vn(2024, 3, 20, 16))
    late_no_letter = fact(resolved_at=vn(2024, 3, 18, 9))
    counts = total([late, late_no_letter])
    assert (counts.resolved_late, counts.late_with_apology) == (2, 1)


def test_extension_does_not_rescue_a_pending_dossier() -> None:
    pending = fact(extended_appointment_at=vn(2024, 4, 10, 16))
    assert (total([pending]).pending_overdue, total([pending]).pending_within) == (1, 0)


@pytest.mark.parametrize("outcome", ["withdrawn", "stopped"])
def test_withdrawn_and_stopped_count_on_time(outcome: str) -> None:
    row = fact(resolved_at=vn(2024, 3, 25, 9), outcome=outcome)  # well after the appointment
    assert resolved_bucket(total([row])) == "on_time"
    assert resolved_bucket(total([row], withdrawn_stopped_on_time=False)) == "late"


@pytest.mark.parametrize(("rule", "row", "expected"), [
    (True, fact(waiting_supplement_since=vn(2024, 3, 14, 10)), "within"),
    (False, fact(waiting_supplement_since=vn(2024, 3, 14, 10)), "overdue"),
    (True, fact(supplement_waits=((vn(2024, 3, 14), vn(2024, 4, 3)),)), "within"),  # waiting at period end
    (True, fact(supplement_waits=((vn(2024, 3, 10), vn(2024, 3, 12)),)), "overdue"),  # wait over by then
    (True, fact(supplement_waits=((vn(2024, 3, 10), vn(2024, 4, 1)),)), "overdue"),  # ended at period end
    (True, fact(), "overdue"),
    (True, fact(appointment_at=vn(2024, 4, 2, 16)), "within"),
])
def test_pending_within_deadline_or_overdue(rule: bool, row: FactRow, expected: str) -> None:
    counts = total([row], supplement_within_deadline=rule)
    assert counts.pending_total == 1
    assert (counts.pending_within, counts.pending_overdue) == ((1, 0) if expected == "within" else (0, 1))


@pytest.mark.parametrize(("as_of", "expected"), [
    (vn(2024, 3, 15, 16, 0), "within"),
    (vn(2024, 3, 15, 16, 0, 59), "within"),
    (vn(2024, 3, 15, 16, 1), "overdue"),
])
def test_pending_within_deadline_until_the_appointment_minute_passes(as_of: datetime, expected: str) -> None:
    counts = total([fact()], as_of=as_of)
    assert (counts.pending_within, counts.pending_overdue) == ((1, 0) if expected == "within" else (0, 1))


def test_supplement_wait_not_yet_known_at_as_of_does_not_count() -> None:
    row = fact(waiting_supplement_since=vn(2024, 3, 20, 9))
    counts = total([row], as_of=vn(2024, 3, 18, 9))
    assert counts.pending_overdue == 1


def test_carried_over_from_the_previous_period() -> None:
    february = {"received_at": vn(2024, 2, 20, 9), "appointment_at": vn(2024, 3, 4, 16)}
    rows = [
        fact(**february),  # still pending → col 6 and col 11
        fact(**february, resolved_at=vn(2024, 3, 4, 10)),  # resolved in March → col 6 and col 7
        fact(**february, resolved_at=vn(2024, 2, 28, 10)),  # resolved before → not in the report
        fact(**february, resolved_at=vn(2024, 4, 2, 10)),  # resolved after → pending at period end
        fact(**february, resolved_at=vn(2024, 3, 1, 0, 0)),  # resolved at the first instant → col 6, col 7
    ]
    counts = total(rows)
    assert counts.columns() == (4, 0, 0, 4, 2, 1, 1, 0, 2, 0, 2)


def test_channel_split_including_carried_over_is_a_rule() -> None:
    carried = fact(received_at=vn(2024, 2, 20, 9), channel="online")
    rows = [carried, fact(channel="post"), fact(channel="online")]
    assert total(rows).columns()[:4] == (3, 1, 1, 1)
    assert total(rows, channel_split_includes_carried_over=True).columns()[:4] == (3, 2, 1, 1)


def test_post_counts_with_in_person() -> None:
    rows = [fact(channel="post"), fact(channel="in_person"), fact(channel="online")]
    assert total(rows).columns()[:3] == (3, 1, 2)


def test_refused_at_desk_is_not_counted() -> None:
    assert total([fact(refused_at_desk=True)]) == Form06Counts()


def test_period_is_half_open() -> None:
    rows = [fact(received_at=MARCH[0]), fact(received_at=MARCH[1])]
    assert total(rows).received_total == 1


def test_as_of_ignores_later_receipts_and_resolutions() -> None:
    rows = [fact(resolved_at=vn(2024, 3, 12, 9)), fact(received_at=vn(2024, 3, 11, 9))]
    counts = total(rows, as_of=vn(2024, 3, 10, 9))
    assert counts.columns() == (1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0)
    assert total(rows, as_of=vn(2024, 5, 1)) == total(rows)


def test_as_of_before_the_period_is_refused() -> None:
    with pytest.raises(ValueError, match="as_of"):
        form06([], {WARD}, *MARCH, as_of=vn(2024, 2, 1))


def test_appointment_is_judged_as_known_at_the_cutoff() -> None:
    # The appointment moved from 15 to 19 March when a supplement arrived on 18 March.
    row = fact(appointment_at=vn(2024, 3, 19, 16), earlier_appointments=((APPOINTMENT, vn(2024, 3, 18, 9)),))
    assert total([row], as_of=vn(2024, 3, 17, 9)).pending_overdue == 1
    assert total([row], as_of=vn(2024, 3, 18, 10)).pending_within == 1


@pytest.mark.parametrize(("attribute_to", "expected"), [("receiving", 2), ("competent", 2), ("either", 3)])
def test_attribution_rule(attribute_to: str, expected: int) -> None:
    rows = [fact(), fact(competent_agency=CITY), fact(receiving_agency=OTHER_WARD, competent_agency=WARD),
            fact(receiving_agency=OTHER_WARD, competent_agency=OTHER_WARD)]
    assert total(rows, attribute_to=attribute_to).received_total == expected


def test_rows_grouped_by_level_then_field_with_a_total() -> None:
    rows = [fact(field="Hộ tịch"), fact(field="Chứng thực"), fact(field="Hộ tịch"),
            fact(level="city", field="Đất đai", competent_agency=CITY)]
    form = form06(rows, {WARD, CITY}, *MARCH)
    form.check_identities()
    lines = [(line.kind, line.stt, line.label, line.counts.received_total) for line in form.lines()]
    assert lines == [("section", "I", "Cấp tỉnh", 1), ("row", "1", "Đất đai", 1),
                     ("section", "II", "Cấp xã", 3), ("row", "1", "Chứng thực", 1),
                     ("row", "2", "Hộ tịch", 2), ("total", "", "Tổng cộng", 4)]


def test_check_identities_raises_on_a_broken_row() -> None:
    form = form06([fact()], {WARD}, *MARCH)
    broken = dataclasses.replace(form, total=dataclasses.replace(form.total, pending_within=5))
    with pytest.raises(IdentityError, match="11 = 12"):
        broken.check_identities()


@pytest.mark.parametrize("bad", [
    {"received_at": datetime(2024, 3, 5, 9)},  # naive
    {"resolved_at": vn(2024, 3, 6), "outcome": None},
    {"rating": 6},
    {"documents_total": 1, "documents_digitised": 2},
    {"channel": "fax"},
])
def test_invalid_fact_rows_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="invalid fact row"):
        fact(**bad)
