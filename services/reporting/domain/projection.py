"""Folding events into one fact row per dossier (pure: no I/O), shared by the live consumer and the rebuild.
(Over 300 lines: one fold rule per event type, which read best side by side.)

Events of one dossier arrive in order on each topic, but the desk's (intake) and the workflow's
(processing) topics interleave differently live and in a replay. So every field is owned by one topic,
or merged in an order-independent way (earliest time, logical or, desk value before workflow value), and
the live model and a rebuilt one end up equal. An event for a dossier never seen (a partial replay, or the
workflow's event read before the desk's) starts a row with what it carries; Form 06 counts a row once
the desk's receipt is known (`reportable`).

`fold_batch` folds a batch of events into the rows loaded for their dossiers and says what changes in the
daily rollups; the store reads and writes the rows (services/reporting/readmodel.py puts them together).
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from libs.calendar import WorkCalendar
from libs.contracts import Envelope, Event
from libs.contracts import intake as di
from libs.contracts import processing as cp
from libs.contracts.common import Digitisation, DocumentKind, DocumentManifest
from services.reporting.domain.certifications import Certified, CertKey, certification_deltas
from services.reporting.domain.facts import CLOSING_OUTCOMES
from services.reporting.domain.rules import CountingRules
from services.reporting.domain.state import FactState, Pair, items_of, items_text
from services.reporting.domain.timing import Judge

log = logging.getLogger(__name__)
Item = tuple[str, Event, Envelope]  # (event id, event, envelope)
RESTART = "restart"  # a supplement policy (`SupplementReceived.policy`): counting starts afresh at the hand-in


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _earliest(current: datetime | None, new: datetime) -> datetime:
    return new if current is None or new < current else current


# ---- the fold -------------------------------------------------------------------------------------------

Fold = Callable[[FactState, Any, datetime], None]
_FOLDS: dict[type[Event], Fold] = {}
# The folds that move an appointment by a pause need the working-day calendar (`WorkCalendar.after_pause`).
Move = Callable[[FactState, Any, datetime, WorkCalendar], None]
_MOVES: dict[type[Event], Move] = {}


def _on(*classes: type[Event]) -> Callable[[Fold], Fold]:
    def register(fn: Fold) -> Fold:
        for cls in classes:
            _FOLDS[cls] = fn
        return fn
    return register


def _moving(cls: type[Event]) -> Callable[[Move], Move]:
    def register(fn: Move) -> Move:
        _MOVES[cls] = fn
        return fn
    return register


def handled_events() -> list[type[Event]]:
    """Every event class that changes a fact row or the certification facts (the consumer subscribes a handler
    to each)."""
    workflow = [cls for cls in _all_subclasses(cp.CaseEvent) if cls.ce_type]
    return sorted({*_FOLDS, *_MOVES, *workflow, di.CopyCertified}, key=lambda cls: cls.ce_type)


def is_certification(event: Event) -> bool:
    """A certification act: a fact of its own (agency, day, medium), never a dossier's row, even when it served
    a dossier (its dossier_id is then that dossier's, otherwise the book entry's own id)."""
    return isinstance(event, di.CopyCertified)


def _all_subclasses(cls: type[Event]) -> Iterator[type[Event]]:
    sub: type[Event]
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def event_time(event: Event, envelope: Envelope) -> datetime:
    at = getattr(event, "at", None)
    return _utc(at if isinstance(at, datetime) else envelope.time)


def apply(state: FactState, event: Event, envelope: Envelope, calendar: WorkCalendar) -> FactState:
    """Fold one event into `state` (in place) and refresh the derived columns."""
    at = event_time(event, envelope)
    if not state.code:
        state.code = event.code
    if isinstance(event, cp.CaseEvent):
        state.case_state = event.state
    fold = _FOLDS.get(type(event))
    if fold is not None:
        fold(state, event, at)
    move = _MOVES.get(type(event))
    if move is not None:
        move(state, event, at, calendar)
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
    _scans(s, e.manifest)
    s.online_payment = e.online_payment


_SCANNED = frozenset({Digitisation.DIGITISED, Digitisation.REUSED_PAPER, Digitisation.REUSED_RESULT})
_REUSED = frozenset({Digitisation.REUSED_PAPER, Digitisation.REUSED_RESULT})


def _scans(s: FactState, manifest: list[DocumentManifest]) -> None:
    """Add the papers a manifest announces (each scan is announced once: docs/domain.md §4.4). Counts add up and
    the items are a union, so the desk's events fold alike in any order."""
    papers = [d for d in manifest if d.kind is DocumentKind.PAPER and d.digitisation in _SCANNED]
    s.documents_scanned += len(papers)
    s.documents_reused += sum(1 for d in papers if d.digitisation in _REUSED)
    s.scanned_items = items_text(items_of(s.scanned_items) | {d.checklist_item for d in papers})


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
    _scans(s, e.manifest)


@_on(di.DossierWithdrawn)
def _desk_withdrawn(s: FactState, e: di.DossierWithdrawn, at: datetime) -> None:
    s.desk_withdrawn_at = _earliest(s.desk_withdrawn_at, at)


@_on(di.ResultHandedOver)
def _handed_over(s: FactState, e: di.ResultHandedOver, at: datetime) -> None:
    s.returned_at = _earliest(s.returned_at, at)  # its electronic_result flag alone proves no signed file


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


@_moving(cp.SupplementReceived)
def _supplement_received(s: FactState, e: cp.SupplementReceived, at: datetime, cal: WorkCalendar) -> None:
    since = s.waiting_supplement_since
    if since is not None:
        s.supplement_waits = (*s.supplement_waits, (since, max(since, at)))
        s.waiting_supplement_since = None
    restart = e.policy == RESTART
    _move_appointment(s, _utc(e.previous_appointment_at), _utc(e.appointment_at), at, cal, restart)


@_on(cp.PaymentRequested)
def _payment_requested(s: FactState, e: cp.PaymentRequested, at: datetime) -> None:
    s.payment_requested += 1


@_moving(cp.PaymentReceived)
def _payment_received(s: FactState, e: cp.PaymentReceived, at: datetime, cal: WorkCalendar) -> None:
    s.paid_at = at
    _move_appointment(s, _utc(e.previous_appointment_at), _utc(e.appointment_at), at, cal, restart=False)


def _move_appointment(s: FactState, previous: datetime, new: datetime, at: datetime, cal: WorkCalendar,
                      restart: bool) -> None:
    """The workflow paused or restarted the clock, moving its appointment from `previous` to `new`. After
    an apology its appointment is the apology's date, not the original one Form 06 judges by: a pause moves
    the original by the same office time (`WorkCalendar.after_pause`, the rule processing moved its own
    by), and a restart counts afresh from the hand-in, so the original becomes the new appointment."""
    base = s.case_appointment_at if s.case_appointment_at is not None else previous
    if s.extended_appointment_at is not None and previous == s.extended_appointment_at:
        s.extended_appointment_at = new
        new = new if restart else _utc(cal.after_pause(base, previous, new))
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
    # Electronic only with the signed file in hand (docs/domain.md §3.3): the `electronic` flag alone is no proof.
    signed = any(d.kind is DocumentKind.RESULT for d in e.manifest)
    s.electronic_result = s.electronic_result or signed


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


# ---- a batch --------------------------------------------------------------------------------------------

def first_of_each(items: Sequence[Item]) -> list[Item]:
    """The items in order, a repeated event id kept once (its first copy)."""
    seen: set[str] = set()
    out = []
    for item in items:
        if item[0] not in seen:
            seen.add(item[0])
            out.append(item)
    return out


def ended(state: FactState) -> bool:
    """Resolved and known well enough to be counted (the desk's receipt may come after the result)."""
    return state.reportable and state.resolved_at is not None


def certification_batch(todo: Sequence[Item], baked: Baked) -> dict[CertKey, Certified]:
    """The certification facts a batch adds: acts and copies per (agency, local day of certified_at, medium)."""
    acts = [event for _, event, _ in todo if isinstance(event, di.CopyCertified)]
    return certification_deltas((event, baked.day(event.certified_at)) for event in acts)


def fold_batch(states: dict[UUID, FactState], todo: Sequence[Item], baked: Baked,
               calendar: WorkCalendar) -> tuple[Tally[Contribution], list[FactState]]:
    """Fold the new events `todo` (in order) into `states`, the rows of their dossiers as stored (a dossier
    without a row starts one, added to `states`); `calendar`: the working-day calendar pauses move by.
    Returns the rollup deltas (what the old rows contributed subtracted, what the new ones contribute added)
    and the reportable dossiers whose ending the batch made known. An event the fold cannot apply (a bug,
    never data) is logged and its row left as the fold left it — alike live and in a replay, so both stay
    equal; fix the bug, then rebuild."""
    deltas: Tally[Contribution] = Tally()
    unresolved = set()
    for dossier, loaded in states.items():
        deltas.subtract(contributions(loaded, baked))
        if not ended(loaded):
            unresolved.add(dossier)
    for event_id, event, envelope in todo:
        if is_certification(event):  # a fact of its own: certification_batch
            continue
        state = states.get(event.dossier_id)
        if state is None:
            state = states[event.dossier_id] = FactState(event.dossier_id)
            unresolved.add(event.dossier_id)
        try:
            apply(state, event, envelope, calendar)
        except Exception:
            log.exception("event %s (%s) could not be folded; recorded without effect", event_id, envelope.type)
            state.derive()
    for state in states.values():
        deltas.update(contributions(state, baked))
    return deltas, [states[d] for d in unresolved if ended(states[d])]


# The topics of the events folded here, once every fold above is registered: no notice event changes a fact
# row, so reporting does not read the notifications topic (two records per dossier, parsed for nothing).
CONSUMED = tuple(sorted({cls.topic for cls in handled_events()}))
