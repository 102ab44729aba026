"""Folding events into one fact row per dossier (pure: no I/O), shared by the live consumer and the rebuild.

Events of one dossier arrive in order on each topic, but the desk's (intake) and the workflow's
(processing) topics interleave differently live and in a replay. So every field is owned by one topic,
or merged in an order-independent way (earliest time, logical or, desk value before workflow value), and
the live model and a rebuilt one end up equal. An event for a dossier never seen (a partial replay, or the
workflow's event read before the desk's) starts a row with what it carries; Form 06 counts a row once
the desk's receipt is known (`reportable`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from libs.contracts import Envelope, Event
from libs.contracts import intake as di
from libs.contracts import processing as cp
from services.reporting.domain import CountingRules, FactRow, Judge
from services.reporting.domain.facts import CHANNELS, CLOSING_OUTCOMES, LEVELS, ONLINE_LEVELS, RESULT_OUTCOMES

Pair = tuple[datetime, datetime]
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)  # known_at for a row whose appointment no longer moves


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _earliest(current: datetime | None, new: datetime) -> datetime:
    return new if current is None or new < current else current


@dataclass(slots=True)
class FactState:
    """The stored row of one dossier (columns of `rm<N>_facts`); derived columns are set by `derive`."""

    dossier_id: UUID
    code: str = ""
    receiving_agency: str = ""
    competent_agency: str = ""
    procedure_code: str = ""
    procedure_name: str = ""
    procedure_version: int | None = None
    field: str = ""
    level: str = ""
    channel: str = ""
    online_level: str = ""
    time_limit_value: float | None = None
    time_limit_unit: str | None = None
    supplement_policy: str | None = None
    has_receipt: bool = False
    has_case: bool = False
    refused_at_desk: bool = False
    refused_at: datetime | None = None
    received_at: datetime | None = None
    receipt_appointment_at: datetime | None = None
    case_appointment_at: datetime | None = None
    appointment_at: datetime | None = None
    appointment_history: tuple[Pair, ...] = ()
    extended_appointment_at: datetime | None = None
    case_resolved_at: datetime | None = None
    case_outcome: str | None = None
    desk_withdrawn_at: datetime | None = None
    resolved_at: datetime | None = None
    outcome: str | None = None
    returned_at: datetime | None = None
    supplement_requested: int = 0
    waiting_supplement_since: datetime | None = None
    supplement_waits: tuple[Pair, ...] = ()
    payment_requested: int = 0
    paid_at: datetime | None = None
    documents_total: int = 0
    documents_digitised: int = 0
    e_certified_copies_requested: int = 0
    e_certified_copies_done: int = 0
    electronic_result: bool = False
    online_payment: bool | None = None
    rating: int | None = None
    rated_at: datetime | None = None
    case_state: int | None = None
    overdue_flagged_at: datetime | None = None
    due_soon_flagged_at: datetime | None = None
    responsible_agency: str | None = None
    reportable: bool = False
    irregular: bool = False

    # ---- storage ------------------------------------------------------------------------------------
    def to_row(self) -> dict[str, Any]:
        row = {name: getattr(self, name) for name in COLUMNS}
        row["appointment_history"] = _pairs_json(self.appointment_history)
        row["supplement_waits"] = _pairs_json(self.supplement_waits)
        return row

    def to_record(self) -> tuple[Any, ...]:
        """The row as a tuple in COLUMNS order with JSON as text (PostgreSQL's array parameters)."""
        record = [getattr(self, name) for name in COLUMNS]
        for index in _JSON_INDEXES:
            pairs = _pairs_json(record[index])
            record[index] = None if pairs is None else json.dumps(pairs)
        return tuple(record)

    @classmethod
    def from_record(cls, record: Sequence[Any]) -> FactState:
        """From a tuple in COLUMNS order (JSON as text or decoded)."""
        values = list(record)
        for index in _JSON_INDEXES:
            values[index] = _pairs_from_json(values[index])
        return cls(*values)

    @classmethod
    def from_row(cls, row: Any) -> FactState:
        data = dict(row)
        data["appointment_history"] = _pairs_from_json(data.get("appointment_history"))
        data["supplement_waits"] = _pairs_from_json(data.get("supplement_waits"))
        return cls(**{name: data[name] for name in COLUMNS if name in data})

    # ---- derived columns ----------------------------------------------------------------------------
    def derive(self) -> FactState:
        self.appointment_at = self.case_appointment_at or self.receipt_appointment_at
        # The earlier ending wins: the desk's withdrawal or the workflow's result / stop / withdrawal.
        case, desk = self.case_resolved_at, self.desk_withdrawn_at
        if case is not None and (desk is None or case <= desk):
            self.resolved_at, self.outcome = case, self.case_outcome
        elif desk is not None:
            self.resolved_at, self.outcome = desk, "withdrawn"
        else:
            self.resolved_at, self.outcome = None, None
        result = self.outcome in RESULT_OUTCOMES
        # No event counts e-certified copies done: an electronic result of a dossier that asked for
        # e-certified copies is taken to deliver all of them (bản sao điện tử).
        self.e_certified_copies_done = self.e_certified_copies_requested if result and self.electronic_result else 0
        self.reportable = (
            self.has_receipt and not self.refused_at_desk and self.received_at is not None
            and self.appointment_at is not None and self.level in LEVELS and self.channel in CHANNELS
            and self.online_level in ONLINE_LEVELS)
        resolved = self.resolved_at
        self.irregular = resolved is not None and any(at > resolved for _, at in self.appointment_history)
        return self

    def fact_row(self) -> FactRow:
        """The domain's view; only for `reportable` rows."""
        assert self.received_at is not None and self.appointment_at is not None
        total = max(0, self.documents_total)
        return FactRow(
            dossier_id=str(self.dossier_id), code=self.code, receiving_agency=self.receiving_agency,
            competent_agency=self.competent_agency, procedure_code=self.procedure_code,
            procedure_name=self.procedure_name, field=self.field, level=self.level,  # type: ignore[arg-type]
            channel=self.channel, online_level=self.online_level,  # type: ignore[arg-type]
            received_at=self.received_at, appointment_at=self.appointment_at,
            extended_appointment_at=self.extended_appointment_at, resolved_at=self.resolved_at,
            outcome=self.outcome,  # type: ignore[arg-type]
            returned_at=self.returned_at, supplement_requested=max(0, self.supplement_requested),
            documents_total=total, documents_digitised=min(total, max(0, self.documents_digitised)),
            e_certified_copies_requested=max(0, self.e_certified_copies_requested),
            e_certified_copies_done=max(0, self.e_certified_copies_done), electronic_result=self.electronic_result,
            online_payment=self.online_payment,
            rating=self.rating if self.rating is not None and 1 <= self.rating <= 5 else None,
            refused_at_desk=self.refused_at_desk, waiting_supplement_since=self.waiting_supplement_since,
            supplement_waits=self.supplement_waits, earlier_appointments=self.appointment_history)


COLUMNS = tuple(f.name for f in dataclasses.fields(FactState))
_JSON_INDEXES = (COLUMNS.index("appointment_history"), COLUMNS.index("supplement_waits"))


def _pairs_json(pairs: tuple[Pair, ...]) -> list[list[str]] | None:
    return [[a.isoformat(), b.isoformat()] for a, b in pairs] if pairs else None


def _pairs_from_json(raw: Any) -> tuple[Pair, ...]:
    if isinstance(raw, str):
        raw = json.loads(raw)
    if not raw:
        return ()
    return tuple((_utc(datetime.fromisoformat(a)), _utc(datetime.fromisoformat(b))) for a, b in raw)


# ---- the fold -------------------------------------------------------------------------------------------

Fold = Callable[[FactState, Any, datetime], None]
_FOLDS: dict[type[Event], Fold] = {}


def _on(*classes: type[Event]) -> Callable[[Fold], Fold]:
    def register(fn: Fold) -> Fold:
        for cls in classes:
            _FOLDS[cls] = fn
        return fn
    return register


def handled_events() -> list[type[Event]]:
    """Every event class that changes a fact row (the consumer subscribes a handler to each)."""
    workflow = [cls for cls in _all_subclasses(cp.CaseEvent) if cls.ce_type]
    return sorted({*_FOLDS, *workflow}, key=lambda cls: cls.ce_type)


def _all_subclasses(cls: type[Event]) -> Iterator[type[Event]]:
    sub: type[Event]
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def event_time(event: Event, envelope: Envelope) -> datetime:
    at = getattr(event, "at", None)
    return _utc(at if isinstance(at, datetime) else envelope.time)


def apply(state: FactState, event: Event, envelope: Envelope) -> FactState:
    """Fold one event into `state` (in place) and refresh the derived columns."""
    at = event_time(event, envelope)
    if not state.code:
        state.code = event.code
    if isinstance(event, cp.CaseEvent):
        state.case_state = event.state
    fold = _FOLDS.get(type(event))
    if fold is not None:
        fold(state, event, at)
    return state.derive()


@_on(di.DossierReceived)
def _received(s: FactState, e: di.DossierReceived, at: datetime) -> None:
    p = e.procedure
    s.has_receipt, s.code = True, e.code
    s.receiving_agency, s.competent_agency = e.receiving_agency, p.competent_agency
    s.procedure_code, s.procedure_name, s.procedure_version = p.code, p.name, p.version
    s.field, s.level, s.online_level = p.field, p.level, p.online_level
    s.time_limit_value, s.time_limit_unit = p.time_limit.value, p.time_limit.unit
    s.supplement_policy = s.supplement_policy or p.supplement_policy
    s.channel = e.channel.value
    s.received_at, s.receipt_appointment_at = _utc(e.received_at), _utc(e.appointment_at)
    s.documents_total += e.documents.total
    s.documents_digitised += e.documents.digitised
    s.e_certified_copies_requested += e.documents.e_certified_requested
    s.online_payment = e.online_payment


@_on(di.DossierRefused)
def _refused(s: FactState, e: di.DossierRefused, at: datetime) -> None:
    s.refused_at_desk, s.refused_at = True, at
    if not s.has_receipt:
        s.receiving_agency, s.channel = e.receiving_agency, e.channel.value
        s.procedure_code, s.procedure_name = e.procedure_code, e.procedure_name


@_on(di.SupplementSubmitted)
def _supplement_submitted(s: FactState, e: di.SupplementSubmitted, at: datetime) -> None:
    s.documents_total += e.documents.total
    s.documents_digitised += e.documents.digitised
    s.e_certified_copies_requested += e.documents.e_certified_requested


@_on(di.DossierWithdrawn)
def _desk_withdrawn(s: FactState, e: di.DossierWithdrawn, at: datetime) -> None:
    s.desk_withdrawn_at = _earliest(s.desk_withdrawn_at, at)


@_on(di.ResultHandedOver)
def _handed_over(s: FactState, e: di.ResultHandedOver, at: datetime) -> None:
    s.returned_at = _earliest(s.returned_at, at)
    s.electronic_result = s.electronic_result or e.electronic_result


@_on(di.DossierRated)
def _rated(s: FactState, e: di.DossierRated, at: datetime) -> None:
    if 1 <= e.rating <= 5 and s.rating is None:  # one rating per dossier: the first stands
        s.rating, s.rated_at = e.rating, at


@_on(cp.CaseOpened)
def _opened(s: FactState, e: cp.CaseOpened, at: datetime) -> None:
    s.has_case = True
    s.supplement_policy = e.supplement_policy
    if not s.has_receipt:  # the desk's receipt is the reference; until it arrives, take the workflow's copy
        s.receiving_agency, s.competent_agency = e.receiving_agency, e.competent_agency
        s.procedure_code, s.received_at = e.procedure_code, _utc(e.received_at)
    if s.case_appointment_at is None:
        s.case_appointment_at = _utc(e.appointment_at)


@_on(cp.SupplementRequested)
def _supplement_requested(s: FactState, e: cp.SupplementRequested, at: datetime) -> None:
    s.supplement_requested += 1
    if s.waiting_supplement_since is None:
        s.waiting_supplement_since = at


@_on(cp.SupplementReceived)
def _supplement_received(s: FactState, e: cp.SupplementReceived, at: datetime) -> None:
    since = s.waiting_supplement_since
    if since is not None:
        s.supplement_waits = (*s.supplement_waits, (since, max(since, at)))
        s.waiting_supplement_since = None
    _move_appointment(s, _utc(e.previous_appointment_at), _utc(e.appointment_at), at)


@_on(cp.PaymentRequested)
def _payment_requested(s: FactState, e: cp.PaymentRequested, at: datetime) -> None:
    s.payment_requested += 1


@_on(cp.PaymentReceived)
def _payment_received(s: FactState, e: cp.PaymentReceived, at: datetime) -> None:
    s.paid_at = at
    _move_appointment(s, _utc(e.previous_appointment_at), _utc(e.appointment_at), at)


def _move_appointment(s: FactState, previous: datetime, new: datetime, at: datetime) -> None:
    """The workflow paused or restarted the clock. Its own appointment follows an apology's new date, so
    after an extension the move is the same shift of the original appointment (Form 06 judges by it)."""
    base = s.case_appointment_at if s.case_appointment_at is not None else previous
    if s.extended_appointment_at is not None and previous == s.extended_appointment_at:
        s.extended_appointment_at = new
        new = base + (new - previous)
    if new != base:
        s.appointment_history = _insert_sorted(s.appointment_history, (base, at))
    s.case_appointment_at = new


def _insert_sorted(pairs: tuple[Pair, ...], pair: Pair) -> tuple[Pair, ...]:
    index = len(pairs)
    while index > 0 and pairs[index - 1][1] > pair[1]:
        index -= 1
    return (*pairs[:index], pair, *pairs[index:])


@_on(cp.DeadlineExtended)
def _extended(s: FactState, e: cp.DeadlineExtended, at: datetime) -> None:
    s.extended_appointment_at = _utc(e.appointment_at)


def _case_resolved(s: FactState, at: datetime, outcome: str) -> None:
    if s.case_resolved_at is None:  # the workflow ends a case once
        s.case_resolved_at, s.case_outcome = at, outcome


@_on(cp.ResultReady)
def _result_ready(s: FactState, e: cp.ResultReady, at: datetime) -> None:
    _case_resolved(s, at, "rejected" if e.outcome == "rejected" else "approved")  # "done": a result too
    s.electronic_result = s.electronic_result or e.electronic


@_on(cp.Stopped)
def _stopped(s: FactState, e: cp.Stopped, at: datetime) -> None:
    _case_resolved(s, at, "stopped")


@_on(cp.Withdrawn)
def _withdrawn(s: FactState, e: cp.Withdrawn, at: datetime) -> None:
    _case_resolved(s, at, "withdrawn")


@_on(cp.CaseResultHandedOver)
def _case_handed_over(s: FactState, e: cp.CaseResultHandedOver, at: datetime) -> None:
    s.returned_at = _earliest(s.returned_at, at)


@_on(cp.Overdue)
def _overdue(s: FactState, e: cp.Overdue, at: datetime) -> None:
    s.overdue_flagged_at, s.responsible_agency = at, e.responsible_agency


@_on(cp.DueSoon)
def _due_soon(s: FactState, e: cp.DueSoon, at: datetime) -> None:
    s.due_soon_flagged_at = at


# ---- rollup contributions -------------------------------------------------------------------------------

class Baked:
    """The rules baked into the daily rollups: local days and the raw timeliness of a resolution."""

    def __init__(self, timezone: str, judge_to_minute: bool) -> None:
        self.timezone, self.judge_to_minute = timezone, judge_to_minute
        self.tz = ZoneInfo(timezone)
        # Closing outcomes are judged like any other here; the query applies withdrawn_stopped_on_time.
        self.judge = Judge(CountingRules(withdrawn_stopped_on_time=False, judge_to_minute=judge_to_minute,
                                         timezone=timezone))

    def as_json(self) -> dict[str, Any]:
        return {"timezone": self.timezone, "judge_to_minute": self.judge_to_minute}

    def day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def timeliness(self, resolved: datetime, appointment: datetime | None) -> str:
        """Judge.resolution for a row whose appointment no longer moves (closing outcomes judged alike)."""
        assert appointment is not None
        if self.judge.is_past(resolved, appointment):
            return "late"
        return "early" if self.day(resolved) < self.day(appointment) else "on_time"


Contribution = tuple[str, tuple[Any, ...]]  # ("received" | "resolved", key)


def contributions(state: FactState, baked: Baked) -> list[Contribution]:
    """The rollup rows this fact adds 1 to."""
    if not state.reportable or state.received_at is None:
        return []
    base = (state.receiving_agency, state.competent_agency, state.level, state.field, state.channel)
    out: list[Contribution] = [("received", (*base, baked.day(state.received_at)))]
    resolved = state.resolved_at
    if resolved is not None:
        closing = state.outcome in CLOSING_OUTCOMES
        timeliness = "irregular" if state.irregular else baked.timeliness(resolved, state.appointment_at)
        out.append(("resolved", (*base, baked.day(resolved), "closing" if closing else "result", timeliness,
                                 state.extended_appointment_at is not None)))
    return out


# The topics of the events folded here, once every fold above is registered: no notice event changes a fact
# row, so reporting does not read the notifications topic (two records per dossier, parsed for nothing).
CONSUMED = tuple(sorted({cls.topic for cls in handled_events()}))
