"""Property tests: Form 06 against an independent, deliberately plain count, and frozen closed periods."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from services.reporting.domain import CountingRules, FactRow, Form06, form06

from .factory import CITY, OTHER_WARD, WARD, fact, vn
from .simulate import simulate

START, END = vn(2024, 3, 1), vn(2024, 3, 11)
AGENCIES = {WARD, CITY}
MINUTES = st.integers(min_value=-12 * 24 * 60, max_value=14 * 24 * 60)
SECONDS = st.sampled_from([0, 0, 0, 30, 59])
NEAR = [-86400, -60, -1, 0, 1, 30, 59, 60, 61, 3600]  # seconds from the appointment's minute


def _moment(minutes: int, seconds: int) -> datetime:
    return START + timedelta(minutes=minutes, seconds=seconds)


@st.composite
def lifecycles(draw: st.DrawFn) -> FactRow:
    received = _moment(draw(MINUTES), draw(SECONDS))
    appointment = received + timedelta(minutes=draw(st.integers(0, 8 * 24 * 60)), seconds=draw(SECONDS))
    resolved = None
    if draw(st.booleans()):
        resolved = received + timedelta(minutes=draw(st.integers(0, 12 * 24 * 60)), seconds=draw(SECONDS))
    elif draw(st.booleans()):  # close to the appointment minute
        near = appointment.replace(second=0) + timedelta(seconds=draw(st.sampled_from(NEAR)))
        resolved = max(received, near)

    def after(most: int) -> datetime:
        return received + timedelta(minutes=draw(st.integers(0, most)))

    earlier = ((appointment - timedelta(hours=draw(st.integers(1, 72))), after(6 * 24 * 60)),)
    return fact(
        received_at=received, appointment_at=appointment, resolved_at=resolved,
        outcome=draw(st.sampled_from(["approved", "rejected", "withdrawn", "stopped"])) if resolved else None,
        channel=draw(st.sampled_from(["online", "in_person", "post"])),
        level=draw(st.sampled_from(["ward", "city"])), field=draw(st.sampled_from(["Hộ tịch", "Chứng thực"])),
        receiving_agency=draw(st.sampled_from([WARD, OTHER_WARD])),
        competent_agency=draw(st.sampled_from([WARD, CITY, OTHER_WARD])),
        refused_at_desk=draw(st.integers(0, 9)) == 0,
        extended_appointment_at=appointment + timedelta(days=3) if draw(st.booleans()) else None,
        waiting_supplement_since=after(10 * 24 * 60) if draw(st.integers(0, 4)) == 0 else None,
        supplement_waits=((after(3 * 24 * 60), after(3 * 24 * 60) + timedelta(days=4)),)
        if draw(st.integers(0, 4)) == 0 else (),
        earlier_appointments=earlier if draw(st.integers(0, 3)) == 0 else ())


rules_strategy = st.builds(
    CountingRules, attribute_to=st.sampled_from(["receiving", "competent", "either"]),
    withdrawn_stopped_on_time=st.booleans(), supplement_within_deadline=st.booleans(),
    channel_split_includes_carried_over=st.booleans(), judge_to_minute=st.booleans())


def reference(facts: list[FactRow], as_of: datetime | None,
              rules: CountingRules) -> dict[tuple[str, str], list[int]]:
    """The same cells, counted one predicate at a time (cols 3..13, then late with apology)."""
    cutoff = END if as_of is None or as_of >= END else as_of
    zone = ZoneInfo(rules.timezone)

    def trunc(moment: datetime) -> datetime:
        return moment.replace(second=0, microsecond=0) if rules.judge_to_minute else moment

    def ours(f: FactRow) -> bool:
        pick = {"receiving": [f.receiving_agency], "competent": [f.competent_agency],
                "either": [f.receiving_agency, f.competent_agency]}[rules.attribute_to]
        return not f.refused_at_desk and bool(AGENCIES.intersection(pick))

    def appointment(f: FactRow) -> datetime:
        still_valid = [a for a, replaced in f.earlier_appointments if replaced > cutoff]
        return still_valid[0] if still_valid else f.appointment_at

    def waiting(f: FactRow) -> bool:
        spans = list(f.supplement_waits)
        if f.waiting_supplement_since is not None:
            spans.append((f.waiting_supplement_since, datetime.max.replace(tzinfo=UTC)))
        return rules.supplement_within_deadline and any(s <= cutoff < e for s, e in spans)

    def timeliness(f: FactRow) -> str:
        assert f.resolved_at is not None
        if rules.withdrawn_stopped_on_time and f.outcome in ("withdrawn", "stopped"):
            return "on_time"
        if trunc(f.resolved_at) > trunc(appointment(f)):
            return "late"
        same_or_later = f.resolved_at.astimezone(zone).date() >= appointment(f).astimezone(zone).date()
        return "on_time" if same_or_later else "early"

    out: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 12)
    for f in facts:
        if not ours(f) or f.received_at >= cutoff or (f.resolved_at is not None and f.resolved_at < START):
            continue
        cells = out[(f.level, f.field)]
        new = f.received_at >= START
        done = f.resolved_at is not None and f.resolved_at < cutoff
        verdict = timeliness(f) if done else None
        overdue = not done and not waiting(f) and trunc(cutoff) > trunc(appointment(f))
        flags = [True, f.channel == "online" and (new or rules.channel_split_includes_carried_over),
                 f.channel != "online" and (new or rules.channel_split_includes_carried_over), not new,
                 done, verdict == "early", verdict == "on_time", verdict == "late",
                 not done, not done and not overdue, overdue,
                 verdict == "late" and f.extended_appointment_at is not None]
        for index, flag in enumerate(flags):
            cells[index] += int(flag)
    return out


def cells_of(form: Form06) -> dict[tuple[str, str], list[int]]:
    return {(s.level, r.field): [*r.counts.columns(), r.counts.late_with_apology]
            for s in form.sections for r in s.rows}


@settings(max_examples=300, deadline=None)
@given(st.lists(lifecycles(), max_size=40), st.one_of(st.none(), MINUTES), rules_strategy)
def test_every_cell_matches_an_independent_count(facts: list[FactRow], as_of_minutes: int | None,
                                                  rules: CountingRules) -> None:
    as_of = None if as_of_minutes is None else max(START, _moment(as_of_minutes, 0))
    form = form06(facts, AGENCIES, START, END, as_of=as_of, rules=rules)
    form.check_identities()
    assert cells_of(form) == dict(reference(facts, as_of, rules))
    total = [sum(cells[i] for cells in cells_of(form).values()) for i in range(12)]
    assert [*form.total.columns(), form.total.late_with_apology] == total


SIMULATIONS = {seed: simulate(seed, months=3, per_day=(3, 8)) for seed in (1, 2, 3)}


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(SIMULATIONS)), st.integers(0, 100 * 24), st.integers(1, 40), rules_strategy)
def test_a_report_frozen_at_as_of_never_changes(seed: int, start_hours: int, days: int,
                                                rules: CountingRules) -> None:
    dossiers = SIMULATIONS[seed]
    period_from = vn(2024, 1, 1) + timedelta(hours=start_hours)
    period_to = period_from + timedelta(days=days)
    as_of = period_from + (period_to - period_from) / 2

    def known_at(moment: datetime | None) -> list[FactRow]:
        return [row for d in dossiers if (row := d.fact_at(moment)) is not None]

    agencies = {WARD, "000.01.00.H55"}
    today = form06(known_at(None), agencies, period_from, period_to, as_of=as_of, rules=rules)
    back_then = form06(known_at(as_of), agencies, period_from, period_to, as_of=as_of, rules=rules)
    assert today == back_then
    closed_today = form06(known_at(None), agencies, period_from, period_to, as_of=period_to, rules=rules)
    closed_then = form06(known_at(period_to), agencies, period_from, period_to, rules=rules)
    assert closed_today.sections == closed_then.sections
    closed_today.check_identities()
