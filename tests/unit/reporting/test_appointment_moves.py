"""Reporting follows processing's appointments: a pause (supplement, payment) moves the original appointment by
the same office time as processing's own (`WorkCalendar.after_pause`), also after an apology (Form 04)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from libs.calendar import load_calendar
from libs.contracts import REGISTRY, Envelope, Event
from libs.contracts import processing as cp
from libs.contracts.processing import contract_type
from services.processing.domain import Case, CaseEvent
from services.processing.domain.errors import NotAllowed
from services.reporting.domain.projection import apply
from services.reporting.domain.state import FactState

CAL = load_calendar()
VN = ZoneInfo("Asia/Ho_Chi_Minh")
WARD = "000.00.12.H55"
DOSSIER = UUID("7d1c0f5e-0000-4000-8000-000000000015")


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN)


def snapshot(days: float, policy: str = "pause", cutoff: bool = True) -> dict[str, Any]:
    return {
        "code": "1.001193", "version": 1, "name": "Đăng ký khai sinh", "field": "Hộ tịch", "level": "ward",
        "online_level": "full", "time_limit": {"value": days, "unit": "working_days"}, "cutoff_15h": cutoff,
        "supplement_policy": policy, "receiving_agency": WARD, "competent_agency": WARD,
        "steps": [
            {"code": "process", "name": "Xử lý", "owner": "competent", "role": "specialist", "share": 0.75},
            {"code": "return", "name": "Trả kết quả", "owner": "receiving", "role": "desk_officer", "share": 0},
        ],
    }


def open_case(received: datetime, procedure: dict[str, Any],
              appointment: datetime | None = None) -> tuple[Case, list[CaseEvent]]:
    return Case.open(dossier_id=str(DOSSIER), code=f"{WARD}-260601-0015", procedure=procedure,
                     receiving_agency=WARD, received_at=received, now=received, calendar=CAL,
                     appointment_at=appointment)


def contract(event: CaseEvent) -> Event:
    """The contract event processing publishes for a domain event (as its staging does)."""
    return REGISTRY[contract_type(event.type)].model_validate(event.to_dict())


def fold(events: list[CaseEvent]) -> FactState:
    state = FactState(DOSSIER)
    for number, event in enumerate(events):
        published = contract(event)
        apply(state, published, Envelope.for_event(published, event.at, f"e{number}"), CAL)
    return state


def test_an_extension_then_a_pause_moves_the_original_by_office_hours() -> None:
    # Original Wed 10/06/2026 10:00; apology on Mon 08/06 to Fri 12/06 16:00; then a 2-office-hour pause.
    case, events = open_case(vn(2026, 6, 8, 8), snapshot(1), appointment=vn(2026, 6, 10, 10))
    events += case.extend("head", "Chờ xác minh", vn(2026, 6, 12, 16), vn(2026, 6, 8, 9))
    events += case.request_payment("desk", 50_000, vn(2026, 6, 9, 9))
    events += case.payment_received(vn(2026, 6, 9, 11))
    assert case.appointment_at == vn(2026, 6, 15, 8)  # Fri 16:00 + 2 office hours, over the weekend
    state = fold(events)
    assert state.extended_appointment_at == vn(2026, 6, 15, 8)
    assert state.case_appointment_at == vn(2026, 6, 10, 14)  # not Sat 13/06 02:00 (the clock-time gap)
    assert state.appointment_history == ((vn(2026, 6, 10, 10), vn(2026, 6, 9, 11)),)


def test_a_restart_after_an_extension_counts_afresh() -> None:
    case, events = open_case(vn(2026, 6, 8, 8), snapshot(2, policy="restart"))
    events += case.extend("head", "Chờ xác minh", vn(2026, 6, 19, 16), vn(2026, 6, 8, 9))
    events += case.request_supplement("desk", ["Bản sao CCCD"], "Thiếu", vn(2026, 6, 9, 9))
    events += case.supplement_received(vn(2026, 6, 11, 10))
    assert case.appointment_at == vn(2026, 6, 15, 10)  # 2 working days from the hand-in
    state = fold(events)
    assert state.case_appointment_at == state.extended_appointment_at == vn(2026, 6, 15, 10)


# ---- property: random lifecycles with extensions and pauses ---------------------------------------------

@dataclass(frozen=True)
class Step:
    kind: str  # "supplement" | "payment" | "extend"
    gap: timedelta  # after the previous step
    length: timedelta  # of a pause; for an extension, how far past the appointment the new date is


steps = st.builds(
    Step,
    st.sampled_from(("supplement", "payment", "extend")),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4)),
    st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=6)),
)
receipts = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20),
                        timezones=st.just(VN))


def run(case: Case, events: list[CaseEvent], received: datetime, plan: list[Step], extend: bool) -> None:
    """Play `plan` on `case`; without `extend`, the apologies are left out (the twin that shows the original)."""
    now = received
    for step in plan:
        now += step.gap
        if step.kind == "extend":
            if extend:  # refused unless the first, and at least 1 working day before the appointment
                with contextlib.suppress(NotAllowed):
                    events += case.extend("head", "Chờ xác minh", case.appointment_at + step.length, now)
            continue
        if step.kind == "supplement":
            events += case.request_supplement("desk", ["Bản sao CCCD"], "Thiếu", now)
            now += step.length
            events += case.supplement_received(now)
        else:
            events += case.request_payment("desk", 50_000, now)
            now += step.length
            events += case.payment_received(now)


@settings(max_examples=150, deadline=None)
@given(receipts, st.sampled_from((0.5, 1, 3, 10)), st.sampled_from(("pause", "restart")),
       st.lists(steps, max_size=6))
def test_reporting_appointments_equal_processings(received: datetime, days: float, policy: str,
                                                  plan: list[Step]) -> None:
    procedure = snapshot(days, policy)
    case, events = open_case(received, procedure)
    run(case, events, received, plan, extend=True)
    twin, _ = open_case(received, procedure)
    run(twin, [], received, plan, extend=False)

    state = fold(events)
    extended = any(isinstance(contract(e), cp.DeadlineExtended) for e in events)
    # The appointment in force is processing's; the original (Form 06 judges by it) is what processing's
    # appointment would be without the apology: moved by the same pauses, by the same rule.
    assert state.case_appointment_at == twin.appointment_at
    if extended:
        assert state.extended_appointment_at == case.appointment_at
    else:
        assert state.extended_appointment_at is None and state.case_appointment_at == case.appointment_at
    assert state.derive().appointment_at == twin.appointment_at
