"""Service layer: which notices an event calls for, and recording them in the consumer's transaction.

The decisions are pure functions (`facts_of`, `next_state`, `plan_notices`, `plan_batch`, `outcome_event`);
`NoticeBook` applies them to the database, a consumer batch at a time (its handler only checks and collects
an event; the batch is written with a few set-based statements just before the consumer's transaction
commits). Nothing here sends: the delivery loop (delivery.py) does, after commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID, uuid4

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy import Connection, Table
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts import Envelope, Event
from libs.contracts import intake as ie
from libs.contracts import processing as pe
from libs.contracts.notifications import NoticeDelivered, NoticeEvent, NoticeFailed
from libs.messaging import outbox_row
from services.notifications.adapters.config import NotificationsConfig
from services.notifications.domain import (
    Channel,
    DossierState,
    MissingContextError,
    NoticeContext,
    NoticeKind,
    NoticeProgress,
    NoticeStatus,
    check_context,
    expire,
    is_stale,
    notice_key,
    state_from_code,
)
from services.notifications.metrics import NoticeMetrics
from services.notifications.store import (
    Dossier,
    Held,
    Notice,
    Step,
    delete_held,
    insert_dossiers,
    insert_held,
    insert_notices,
    insert_outbox,
    load_dossiers,
    load_held,
    load_open_notices,
    progress_of,
    save_steps,
    update_dossiers,
)

log = logging.getLogger(__name__)
S = DossierState
# Warnings to officers, not changes of the dossier: notifications ignores them.
IGNORED: frozenset[type[Event]] = frozenset({ie.DossierRated, pe.Overdue, pe.DueSoon, pe.HandoffAckOverdue})
FALLBACK_REJECTION = "hồ sơ không đủ điều kiện giải quyết theo quy định"
FALLBACK_MISSING = "giấy tờ ghi trong Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"


# -- what an event tells notifications (pure) -----------------------------------------------------------


@dataclass(frozen=True)
class ContactFacts:
    full_name: str
    phone: str | None
    email: str | None
    agency_name: str
    receiving_agency: str
    procedure_name: str


@dataclass(frozen=True)
class EventFacts:
    state: DossierState | None = None  # the dossier's state after the event; None: unchanged
    kind: NoticeKind | None = None  # the notice the event calls for
    extra: dict[str, Any] = field(default_factory=dict)  # kind-specific template variables (JSON values)
    contact: ContactFacts | None = None
    appointment_at: datetime | None = None  # the appointment (hẹn trả) as of this event
    rejection_reason: str | None = None


def _json(values: dict[str, Any]) -> dict[str, Any]:
    return dict(to_jsonable_python(values))


def _contact(a: Any, agency: str, agency_name: str, procedure_name: str) -> ContactFacts:
    return ContactFacts(a.full_name, a.phone or None, a.email or None, agency_name, agency, procedure_name)


def _intake_facts(event: Event) -> EventFacts:
    if isinstance(event, ie.DossierReceived):
        contact = _contact(event.applicant, event.receiving_agency, event.receiving_agency_name, event.procedure.name)
        return EventFacts(S.RECEIVED, NoticeKind.RECEIVED, _json({"appointment_at": event.appointment_at}), contact,
                          appointment_at=event.appointment_at)
    if isinstance(event, ie.DossierRefused):
        contact = _contact(event.applicant, event.receiving_agency, event.receiving_agency_name, event.procedure_name)
        return EventFacts(S.REFUSED, NoticeKind.REFUSED, {"reason": event.reason}, contact)
    if isinstance(event, ie.SupplementSubmitted):
        return EventFacts(S.PROCESSING)
    if isinstance(event, ie.DossierWithdrawn):
        return EventFacts(S.WITHDRAWN)
    if isinstance(event, ie.ResultHandedOver):
        return EventFacts(S.RESULT_DELIVERED)
    return EventFacts()


def _case_facts(event: pe.CaseEvent) -> EventFacts:
    state = state_from_code(event.state)
    if isinstance(event, pe.Transferred):
        return EventFacts(S.TRANSFERRED, NoticeKind.TRANSFERRED)
    if isinstance(event, pe.SupplementRequested):
        extra = {"missing_items": list(event.items), "reason": event.reason}
        return EventFacts(S.SUPPLEMENT_REQUESTED, NoticeKind.SUPPLEMENT_REQUESTED, extra)
    if isinstance(event, pe.DeadlineExtended):
        extra = _json({"reason": event.reason, "appointment_at": event.previous_appointment_at,
                       "new_appointment_at": event.appointment_at})
        return EventFacts(state, NoticeKind.EXTENDED, extra, appointment_at=event.appointment_at)
    if isinstance(event, pe.SupplementReceived | pe.PaymentReceived):
        return EventFacts(state or S.PROCESSING, appointment_at=event.appointment_at)
    if isinstance(event, pe.Stopped):
        return EventFacts(S.STOPPED, NoticeKind.STOPPED, {"reason": event.reason})
    if isinstance(event, pe.Withdrawn):
        return EventFacts(S.WITHDRAWN)
    if isinstance(event, pe.Rejected):
        return EventFacts(state, rejection_reason=event.reason)
    if isinstance(event, pe.ResultReady):
        if event.outcome == "rejected":
            return EventFacts(S.REJECTED, NoticeKind.REJECTED, {"reason": event.note} if event.note else {})
        return EventFacts(S.RESULT_READY, NoticeKind.RESULT_READY, _json({"appointment_at": event.appointment_at}))
    if isinstance(event, pe.CaseResultHandedOver):
        return EventFacts(S.RESULT_DELIVERED, NoticeKind.RESULT_POSTED if event.method == "post" else None)
    return EventFacts(state)


def facts_of(event: Event) -> EventFacts:
    """What one intake or processing event means for notices (pure)."""
    if type(event) in IGNORED:
        return EventFacts()
    if isinstance(event, pe.CaseEvent):
        return _case_facts(event)
    return _intake_facts(event)


def event_time(event: Event, env: Envelope) -> datetime:
    """When the event happened: its own `at` (or receipt time), else the CloudEvents time."""
    at = getattr(event, "at", None) or getattr(event, "received_at", None)
    return at if isinstance(at, datetime) else env.time


def next_state(
    current: str, current_at: datetime | None, new: DossierState | None, event_at: datetime
) -> tuple[str, datetime | None]:
    """The dossier's latest state: events of two topics may be read out of order, so an event older than
    the one that set the current state does not move it back."""
    if new is None or (current_at is not None and event_at < current_at):
        return current, current_at
    return new.value, event_at


# -- which notices (pure) ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DossierView:
    """What the planner needs of a dossier whose contact is known."""

    dossier_id: UUID
    code: str
    full_name: str
    phone: str | None
    email: str | None
    agency_name: str
    procedure_name: str
    state: str
    appointment_at: datetime | None = None
    rejection_reason: str | None = None

    @classmethod
    def of(cls, row: Dossier) -> DossierView:
        return cls(row.dossier_id, row.code, row.full_name, row.phone, row.email, row.agency_name,
                   row.procedure_name, row.dossier_state, row.appointment_at, row.rejection_reason)


@dataclass(frozen=True)
class PlannedNotice:
    key: str
    channel: Channel
    recipient: str
    context: dict[str, Any]  # NoticeContext as JSON
    expired_because: str | None  # recorded as expired instead of created


def notice_context(kind: NoticeKind, d: DossierView, extra: dict[str, Any], lookup_url: str | None) -> NoticeContext:
    """Template variables: the dossier's, the event's, and defaults for what an event may leave out.
    Raises MissingContextError if a field the kind needs is still empty."""
    desk = f"Bộ phận Một cửa {d.agency_name}".strip()
    by_kind: dict[NoticeKind, dict[str, Any]] = {
        NoticeKind.SUPPLEMENT_REQUESTED: {"where_to_bring": desk, "missing_items": [FALLBACK_MISSING]},
        NoticeKind.TRANSFERRED: {"appointment_at": d.appointment_at},
        NoticeKind.RESULT_READY: {"pickup_place": desk, "appointment_at": d.appointment_at},
        NoticeKind.REJECTED: {"reason": d.rejection_reason or FALLBACK_REJECTION},
    }
    defaults = by_kind.get(kind, {})
    given = {k: v for k, v in extra.items() if v not in (None, "", [])}
    ctx = NoticeContext.model_validate({
        "dossier_code": d.code, "applicant_name": d.full_name, "procedure_name": d.procedure_name,
        "agency_name": d.agency_name, "lookup_url": lookup_url, **defaults, **given,
    })
    check_context(kind, ctx)
    return ctx


def wanted_channels(kind: NoticeKind, d: DossierView, config: NotificationsConfig) -> list[tuple[Channel, str]]:
    """(channel, recipient) for each channel switched on for the kind that the citizen can be reached on."""
    return [(ch, to) for ch, to in ((Channel.SMS, d.phone), (Channel.EMAIL, d.email))
            if to and config.policy.enabled(kind, ch)]


def plan_notices(
    kind: NoticeKind, d: DossierView, event_id: str, extra: dict[str, Any], config: NotificationsConfig
) -> list[PlannedNotice]:
    """One notice per channel that is switched on and that the citizen can be reached on; a notice whose
    moment has already passed (the dossier moved on) is planned as expired."""
    wanted = wanted_channels(kind, d, config)
    if not wanted:
        return []
    context = notice_context(kind, d, extra, config.lookup_url).model_dump(mode="json")
    stale = f"stale: the dossier is {d.state}" if is_stale(kind, d.state) else None
    return [PlannedNotice(notice_key(str(d.dossier_id), event_id, ch), ch, to, context, stale) for ch, to in wanted]


class NoticeFacts(Protocol):
    """What an outcome event tells of a notice (a stored row or one in memory)."""

    @property
    def id(self) -> UUID: ...
    @property
    def dossier_id(self) -> UUID: ...
    @property
    def code(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def channel(self) -> str: ...


def outcome_event(row: NoticeFacts, progress: NoticeProgress, at: datetime) -> NoticeEvent | None:
    """notice.delivered / notice.failed for a final status; None while the notice may still go out."""
    common: dict[str, Any] = {
        "dossier_id": row.dossier_id, "code": row.code, "notice_id": str(row.id), "kind": row.kind,
        "channel": row.channel, "at": at, "attempts": progress.attempts,
    }
    if progress.status is NoticeStatus.DELIVERED:
        return NoticeDelivered(**common, provider_id=progress.provider_id)
    if progress.status in (NoticeStatus.PERMANENT_FAILURE, NoticeStatus.TECHNICAL_FAILURE, NoticeStatus.EXPIRED):
        return NoticeFailed(**common, status=progress.status.value, reason=progress.reason)
    return None


# -- recording (in the consumer's transaction) ------------------------------------------------------------

_STALE_KINDS: dict[str, frozenset[str]] = {
    state.value: frozenset(k.value for k in NoticeKind if is_stale(k, state)) for state in DossierState
}
# Stands for the dossier when an event is checked on arrival: its fields are never the missing ones.
_PLACEHOLDER = DossierView(UUID(int=0), "-", "-", None, None, "-", "-", S.SUBMITTED.value,
                           datetime(2000, 1, 1, tzinfo=UTC), None)
_PENDING = "notifications.pending"


def check_event(facts: EventFacts, config: NotificationsConfig) -> None:
    """Refuse (MissingContextError, ValidationError) an event whose own data cannot make the notice it calls
    for, whatever the dossier: the consumer then dead-letters that event alone."""
    kind = facts.kind
    if kind is not None and any(config.policy.enabled(kind, ch) for ch in Channel):
        notice_context(kind, _PLACEHOLDER, facts.extra, config.lookup_url)


@dataclass(frozen=True, slots=True)
class Pending:
    """An event of the batch, read and checked, waiting for the batch's unit of work."""

    dossier_id: UUID
    code: str
    event_id: str
    facts: EventFacts
    at: datetime  # when the event happened
    now: datetime  # when it was applied
    trace: Context  # the consume span's context, carried by the events it causes


@dataclass(frozen=True, slots=True)
class NewNotice:
    notice: Notice
    trace: Context


@dataclass
class BatchPlan:
    """What a batch of events changes (pure: built from the rows the batch read)."""

    dossiers: dict[UUID, Dossier]
    created: set[UUID]  # dossiers whose row does not exist yet
    notices: dict[str, NewNotice] = field(default_factory=dict)  # by key, in the order recorded
    keys: dict[UUID, list[str]] = field(default_factory=dict)  # keys of `notices` by dossier
    held: list[Held] = field(default_factory=list)  # to keep (contact still unknown)
    released: set[UUID] = field(default_factory=set)  # dossiers whose stored held notices were recorded
    moves: dict[UUID, list[tuple[str, Context]]] = field(default_factory=dict)  # state changes, in order


def plan_batch(
    items: list[Pending], dossiers: dict[UUID, Dossier], stored_held: dict[UUID, list[Held]],
    config: NotificationsConfig,
) -> BatchPlan:
    """Apply the batch's events in order to the dossiers (rows absent are created bare), recording the
    notices they call for; the same decisions, event by event, as applying them one transaction each."""
    plan = BatchPlan(dossiers, set())
    waiting: dict[UUID, list[Held]] = {d: list(h) for d, h in stored_held.items()}
    for item in items:
        d = dossiers.get(item.dossier_id)
        if d is None:
            d = dossiers[item.dossier_id] = Dossier(item.dossier_id, item.code, updated_at=item.now)
            plan.created.add(item.dossier_id)
        facts = item.facts
        newly_known = facts.contact is not None and not d.contact_known
        state_before = d.dossier_state
        _update(d, facts, item.at, item.now)
        if newly_known:
            held = sorted(waiting.pop(d.dossier_id, []), key=lambda h: h.event_at)
            if d.dossier_id in stored_held:
                plan.released.add(d.dossier_id)
            for h in held:
                _record(plan, d, NoticeKind(h.kind), h.event_id, h.extra, item, config)
        if facts.kind is not None:
            if d.contact_known:
                _record(plan, d, facts.kind, item.event_id, facts.extra, item, config)
            else:
                waiting.setdefault(d.dossier_id, []).append(
                    Held(item.event_id, d.dossier_id, facts.kind.value, facts.extra, item.at, item.now))
        if d.dossier_state != state_before:
            _expire_recorded(plan, d, item)
            plan.moves.setdefault(d.dossier_id, []).append((d.dossier_state, item.trace))
    plan.held = [h for d, held in waiting.items() for h in held if d not in stored_held or h not in stored_held[d]]
    return plan


def _record(plan: BatchPlan, d: Dossier, kind: NoticeKind, event_id: str, extra: dict[str, Any], item: Pending,
            config: NotificationsConfig) -> None:
    view = DossierView.of(d)
    try:
        planned = plan_notices(kind, view, event_id, extra, config)
    except (MissingContextError, ValidationError) as exc:  # the dossier lacks what the notice needs
        log.error("notice %s of dossier %s cannot be built: %s", kind.value, d.code, exc)
        reason = f"cannot build the notice: {type(exc).__name__}: {exc}"[:1000]
        planned = [PlannedNotice(notice_key(str(d.dossier_id), event_id, ch), ch, to, {}, reason)
                   for ch, to in wanted_channels(kind, view, config)]
        failed = NoticeStatus.TECHNICAL_FAILURE
    else:
        failed = NoticeStatus.EXPIRED
    for p in planned:
        if p.key in plan.notices:
            continue
        status = failed if p.expired_because else NoticeStatus.CREATED
        notice = Notice(
            id=uuid4(), key=p.key, dossier_id=d.dossier_id, code=d.code, event_id=event_id, kind=kind.value,
            channel=p.channel.value, recipient=p.recipient, status=status.value, reason=p.expired_because,
            created_at=item.now, updated_at=item.now, context=p.context,
        )
        plan.notices[p.key] = NewNotice(notice, item.trace)
        plan.keys.setdefault(d.dossier_id, []).append(p.key)


def _expire_recorded(plan: BatchPlan, d: Dossier, item: Pending) -> None:
    """Notices recorded earlier in the batch whose moment passed with this event."""
    for key in plan.keys.get(d.dossier_id, ()):
        n = plan.notices[key].notice
        if n.status == NoticeStatus.CREATED and is_stale(n.kind, d.dossier_state):
            expired = replace(n, status=NoticeStatus.EXPIRED.value, reason=f"stale: the dossier is {d.dossier_state}",
                              updated_at=item.now)
            plan.notices[key] = NewNotice(expired, item.trace)


def expire_steps(notices: list[Notice], moves: dict[UUID, list[tuple[str, Context]]]) -> list[tuple[Step, Context]]:
    """Stored notices (open) whose moment passed with one of the batch's state changes (the first such)."""
    steps = []
    for n in notices:
        for state, trace in moves.get(n.dossier_id, ()):
            if is_stale(n.kind, state):
                before = progress_of(n)
                steps.append((Step(n, before, expire(before, f"stale: the dossier is {state}")), trace))
                break
    return steps


@dataclass
class NoticeBook:
    """Applies intake/processing events: keeps the dossier's contact and state, records notices.

    `apply` (the handler) only reads and checks an event; the batch's events are applied together just
    before the consumer's transaction commits — a few statements per batch, not a few per event."""

    config: NotificationsConfig
    outbox: Table
    metrics: NoticeMetrics

    async def apply(self, session: AsyncSession, event: Event, env: Envelope, now: datetime) -> None:
        facts = facts_of(event)
        check_event(facts, self.config)
        item = Pending(event.dossier_id, event.code, env.id, facts, event_time(event, env), now,
                       otel_context.get_current())
        info = session.sync_session.info
        pending = info.get(_PENDING)
        if pending is None:
            pending = info[_PENDING] = []
            sa_event.listen(session.sync_session, "before_commit", self._write_batch, once=True)
        pending.append(item)

    def _write_batch(self, session: Session) -> None:
        items: list[Pending] = session.info.pop(_PENDING, [])
        if items:
            counts = self.write(session.connection(), items)
            sa_event.listen(session, "after_commit", lambda _s: self._count(counts), once=True)

    def write(self, conn: Connection, items: list[Pending]) -> list[tuple[str, str, str]]:
        """The batch's unit of work (inside its transaction); returns the metric samples to count once the
        transaction commits."""
        now = items[-1].now
        ids = list(dict.fromkeys(i.dossier_id for i in items))
        dossiers = load_dossiers(conn, ids)
        with_contact = {i.dossier_id for i in items if i.facts.contact is not None}
        unknown = [d for d, row in dossiers.items() if not row.contact_known and d in with_contact]
        plan = plan_batch(items, dossiers, load_held(conn, unknown), self.config)
        # Stored notices the batch may expire, read before this batch's own are written.
        kinds = set().union(*(_STALE_KINDS.get(s, frozenset()) for m in plan.moves.values() for s, _ in m))
        moved = [d for d in plan.moves if d not in plan.created]
        stored = load_open_notices(conn, moved, sorted(kinds))

        insert_dossiers(conn, [plan.dossiers[d] for d in plan.created])
        update_dossiers(conn, [row for d, row in plan.dossiers.items() if d not in plan.created])
        insert_held(conn, plan.held)
        delete_held(conn, sorted(plan.released))

        counts: list[tuple[str, str, str]] = []
        outbox: list[dict[str, Any]] = []
        written = insert_notices(conn, [new.notice for new in plan.notices.values()])
        for new in plan.notices.values():
            n = new.notice
            if n.key not in written:
                continue  # recorded before (same dossier, event and channel)
            counts.append((n.channel, n.kind, NoticeStatus.CREATED.value))
            if n.status != NoticeStatus.CREATED:
                counts.append((n.channel, n.kind, n.status))
                event = outcome_event(n, progress_of(n), n.updated_at or now)
                if event is not None:
                    outbox.append(outbox_row(event, now, new.trace))
        steps = expire_steps(stored, plan.moves)
        saved = save_steps(conn, [s for s, _ in steps], now)
        for step, trace in steps:
            if step.notice.id in saved:
                counts.append((step.notice.channel, step.notice.kind, step.after.status.value))
                event = outcome_event(step.notice, step.after, now)
                if event is not None:
                    outbox.append(outbox_row(event, now, trace))
        insert_outbox(conn, self.outbox, outbox)
        return counts

    def _count(self, counts: list[tuple[str, str, str]]) -> None:
        for channel, kind, status in counts:
            self.metrics.count(channel, kind, status)


def _update(row: Dossier, facts: EventFacts, at: datetime, now: datetime) -> None:
    c = facts.contact
    if c is not None:
        row.full_name, row.phone, row.email = c.full_name, c.phone, c.email
        row.agency_name, row.receiving_agency, row.procedure_name = c.agency_name, c.receiving_agency, c.procedure_name
        row.contact_known = True
    row.dossier_state, row.state_at = next_state(row.dossier_state, row.state_at, facts.state, at)
    # Appointments move only forward in processing's own (ordered) events; the receipt's one, possibly
    # read after them, does not override a later appointment.
    if facts.appointment_at is not None and (c is None or row.appointment_at is None):
        row.appointment_at = facts.appointment_at
    if facts.rejection_reason:
        row.rejection_reason = facts.rejection_reason
    row.updated_at = now
