"""Seeded simulation of a ward desk over several months, for reporting tests (reusable end to end).

`simulate()` returns `SimDossier`s: full lifecycles (receipt, transfer to a city department, supplement
waits that pause the deadline, apologies with a new date, late results, withdrawals, refusals, ratings).
`SimDossier.fact_at(moment)` gives the fact row exactly as the reporting service would have held it at
that moment, so a report frozen at `as_of` can be compared with one computed from the past state.
`SimDossier.timeline()` lists the lifecycle as (time, event) pairs for driving real services.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.reporting.domain import FactRow
from services.reporting.domain.facts import Channel, Level, OnlineLevel, Outcome

VN = ZoneInfo("Asia/Ho_Chi_Minh")
WARD = "000.00.12.H55"
OTHER_WARD = "000.00.13.H55"
CITY_LAND = "000.01.00.H55"  # the city's land registration office: forwarded dossiers are settled here


@dataclass(frozen=True)
class SimProcedure:
    code: str
    name: str
    field: str
    level: Level
    online_level: OnlineLevel
    days: int  # time limit in working days (0 = same day, next day after 15:00)
    fee: bool
    weight: int


CATALOGUE = (
    SimProcedure("2.000815", "Chứng thực bản sao từ bản chính", "Chứng thực", "ward", "partial", 0, True, 30),
    SimProcedure("2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", "Chứng thực", "ward", "partial",
                 0, True, 8),
    SimProcedure("1.001193", "Đăng ký khai sinh", "Hộ tịch", "ward", "full", 1, False, 15),
    SimProcedure("1.000894", "Đăng ký kết hôn", "Hộ tịch", "ward", "partial", 1, False, 6),
    SimProcedure("1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", "Hộ tịch", "ward", "full", 3, True, 10),
    SimProcedure("1.012812", "Hòa giải tranh chấp đất đai", "Đất đai", "ward", "none", 30, False, 2),
    SimProcedure("1.013833", "Đăng ký biến động đất đai (đổi tên, thay đổi thông tin)", "Đất đai", "city",
                 "partial", 4, True, 6),
    SimProcedure("1.012783", "Cấp đổi Giấy chứng nhận quyền sử dụng đất", "Đất đai", "city", "partial", 10,
                 True, 4),
)


@dataclass(frozen=True)
class SimDossier:
    base: FactRow  # the fact row as filled at receipt
    waits: tuple[tuple[datetime, datetime | None], ...]  # supplement waits; an open one has no end
    apology: tuple[datetime, datetime] | None  # (letter sent at, new appointment)
    resolved: tuple[datetime, Outcome] | None
    returned_at: datetime | None
    rating: tuple[datetime, int] | None
    electronic_result: bool

    def fact_at(self, moment: datetime | None = None) -> FactRow | None:
        """The fact row as known at `moment` (None: everything); None if not yet received."""
        if moment is not None and self.base.received_at > moment:
            return None
        def seen(at: datetime | None) -> bool:
            return at is not None and (moment is None or at <= moment)

        closed = tuple((s, e) for s, e in self.waits if e is not None and seen(e))
        open_since = next((s for s, e in self.waits if seen(s) and not (e is not None and seen(e))), None)
        appointment, earlier = self.base.appointment_at, []
        for start, end in closed:  # each finished wait pauses the clock: the appointment moves
            earlier.append((appointment, end))
            appointment = appointment + (end - start)
        done = self.resolved if self.resolved is not None and seen(self.resolved[0]) else None
        return replace(
            self.base, appointment_at=appointment, earlier_appointments=tuple(earlier),
            supplement_waits=closed, waiting_supplement_since=open_since,
            supplement_requested=sum(1 for s, _ in self.waits if seen(s)),
            extended_appointment_at=self.apology[1] if self.apology and seen(self.apology[0]) else None,
            resolved_at=done[0] if done else None, outcome=done[1] if done else None,
            returned_at=self.returned_at if seen(self.returned_at) else None,
            rating=self.rating[1] if self.rating and seen(self.rating[0]) else None,
            electronic_result=self.electronic_result and done is not None)

    def timeline(self) -> list[tuple[datetime, str]]:
        events = [(self.base.received_at, "refused" if self.base.refused_at_desk else "received")]
        for start, end in self.waits:
            events.append((start, "supplement_requested"))
            if end is not None:
                events.append((end, "supplement_completed"))
        if self.apology:
            events.append((self.apology[0], "apology"))
        if self.resolved:
            events.append((self.resolved[0], self.resolved[1]))
        if self.returned_at:
            events.append((self.returned_at, "returned"))
        if self.rating:
            events.append((self.rating[0], "rated"))
        return sorted(events)


def simulate(seed: int = 1, start: date = date(2024, 1, 1), months: int = 4,
             per_day: tuple[int, int] = (4, 12), horizon: datetime | None = None) -> list[SimDossier]:
    """Dossiers received on working days from `start` for about `months` months; nothing after `horizon`
    (default: the end of the simulated receipts + 20 days) is known, so some stay pending."""
    rng = random.Random(seed)
    end = start + timedelta(days=30 * months)
    horizon = horizon or _local(end + timedelta(days=20), time(0))
    dossiers, day, number = [], start, 0
    while day < end:
        if day.weekday() < 5:
            for _ in range(rng.randint(*per_day)):
                number += 1
                dossiers.append(_dossier(rng, day, number, horizon))
        day += timedelta(days=1)
    return dossiers


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=VN).astimezone(UTC)


def _add_working_days(day: date, days: int) -> date:
    while days > 0 or day.weekday() >= 5:
        day += timedelta(days=1)
        days -= day.weekday() < 5
    return day


def _dossier(rng: random.Random, day: date, number: int, horizon: datetime) -> SimDossier:
    proc = rng.choices(CATALOGUE, weights=[p.weight for p in CATALOGUE])[0]
    received = _local(day, time(7, 30)) + timedelta(minutes=rng.randint(0, 9 * 60 + 15))
    days = proc.days if proc.days or received.astimezone(VN).hour < 15 else 1
    appointment = _local(_add_working_days(day, days), time(16, 30))
    base = _base(rng, proc, number, received, appointment)
    if base.refused_at_desk:
        return SimDossier(base, (), None, None, None, None, False)
    waits = _waits(rng, received, appointment, horizon)
    shifted = appointment + sum(((e - s) for s, e in waits if e is not None), timedelta())
    resolved = _resolution(rng, received, shifted, waits, horizon)
    apology = _apology(rng, received, shifted, waits, resolved, horizon)
    returned = resolved[0] + timedelta(hours=rng.uniform(0.5, 72)) if resolved else None
    returned = returned if returned and returned < horizon and resolved and resolved[1] != "stopped" else None
    rating = (returned + timedelta(minutes=5), rng.choice((5, 5, 5, 4, 4, 3, 2, 1))) \
        if returned and rng.random() < 0.4 else None
    return SimDossier(base, waits, apology, resolved, returned, rating, rng.random() < 0.9)


def _base(rng: random.Random, proc: SimProcedure, number: int, received: datetime,
          appointment: datetime) -> FactRow:
    online = proc.online_level != "none" and rng.random() < (0.6 if proc.online_level == "full" else 0.25)
    channel: Channel = "online" if online else ("post" if rng.random() < 0.1 else "in_person")
    receiving = OTHER_WARD if rng.random() < 0.1 else WARD
    documents = rng.randint(1, 6)
    copies = rng.randint(1, 4) if proc.code == "2.000815" else 0
    return FactRow(
        dossier_id=f"sim-{number}", code=f"{receiving}-{received.astimezone(VN):%y%m%d}-{number:04d}",
        receiving_agency=receiving, competent_agency=CITY_LAND if proc.level == "city" else receiving,
        procedure_code=proc.code, procedure_name=proc.name, field=proc.field, level=proc.level,
        channel=channel, online_level=proc.online_level,
        received_at=received, appointment_at=appointment,
        documents_total=documents, documents_digitised=documents if rng.random() < 0.95 else documents - 1,
        e_certified_copies_requested=copies, e_certified_copies_done=copies if rng.random() < 0.8 else 0,
        online_payment=(channel == "online" or rng.random() < 0.2) if proc.fee else None,
        refused_at_desk=rng.random() < 0.03)


def _waits(rng: random.Random, received: datetime, appointment: datetime,
           horizon: datetime) -> tuple[tuple[datetime, datetime | None], ...]:
    if rng.random() > 0.15:
        return ()
    start = received + (appointment - received) * rng.uniform(0.05, 0.6)
    end = start + timedelta(hours=rng.uniform(2, 240))
    if end >= horizon or rng.random() < 0.1:
        return ((start, None),)  # the citizen never came back (yet)
    return ((start, end),)


def _resolution(rng: random.Random, received: datetime, appointment: datetime,
                waits: tuple[tuple[datetime, datetime | None], ...],
                horizon: datetime) -> tuple[datetime, Outcome] | None:
    last_end = waits[-1][1] if waits else received
    if last_end is None:  # still waiting: withdrawn or nothing
        at = waits[-1][0] + timedelta(days=rng.uniform(1, 40))
        return (at, "withdrawn") if rng.random() < 0.3 and at < horizon else None
    roll = rng.random()
    if roll < 0.10:
        at = appointment + timedelta(minutes=rng.randint(1, 7 * 24 * 60))  # late
    elif roll < 0.13:
        at = appointment.replace(second=rng.randint(0, 59))  # within the appointment minute
    else:
        at = last_end + (appointment - last_end) * rng.uniform(0.05, 1.0)
    outcomes: tuple[Outcome, ...] = ("approved", "rejected", "withdrawn", "stopped")
    outcome = rng.choices(outcomes, weights=(85, 7, 4, 4))[0]
    return (at, outcome) if at < horizon else None


def _apology(rng: random.Random, received: datetime, appointment: datetime,
             waits: tuple[tuple[datetime, datetime | None], ...], resolved: tuple[datetime, Outcome] | None,
             horizon: datetime) -> tuple[datetime, datetime] | None:
    late = resolved[0] > appointment if resolved else appointment < horizon
    if not late or rng.random() > 0.6:
        return None
    # Sent after the finished waits: this world moves appointments by clock time (it knows no office hours),
    # which after an apology would differ from the services' office-time rule; that case has its own
    # property test (tests/unit/reporting/test_appointment_moves.py).
    ended = [end + timedelta(minutes=1) for _, end in waits if end is not None]
    sent = max(received, *ended, appointment - timedelta(days=1))
    return sent, appointment + timedelta(days=rng.randint(2, 10))
