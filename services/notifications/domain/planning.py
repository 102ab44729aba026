"""Which notices a dossier's events call for (pure): planning a consumer batch over the rows it read.

`plan_batch` applies the batch's events in order to the dossiers (facts.py says what each event means),
recording the notices they call for — the same decisions, event by event, as applying them one
transaction each; `settle_batch` turns what the store then wrote into outcome events and metric samples.
The use case (notices.py) loads the rows, calls these, and writes the result."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID, uuid4

from pydantic import ValidationError

from libs.contracts.notifications import NoticeEvent
from services.notifications.domain.context import MissingContextError, NoticeContext, check_context
from services.notifications.domain.facts import EventFacts, apply_facts
from services.notifications.domain.keys import notice_key
from services.notifications.domain.kinds import Channel, NoticeKind
from services.notifications.domain.lifecycle import NoticeStatus, expire
from services.notifications.domain.outcomes import outcome_event
from services.notifications.domain.policy import NotificationPolicy
from services.notifications.domain.records import Dossier, Held, Notice, Step, progress_of
from services.notifications.domain.stale import DossierState, is_stale

log = logging.getLogger(__name__)
FALLBACK_REJECTION = "hồ sơ không đủ điều kiện giải quyết theo quy định"
FALLBACK_MISSING = "giấy tờ ghi trong Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"
Counts = list[tuple[str, str, str]]  # (channel, kind, status): metric samples, counted once committed


class PlanningConfig(Protocol):
    """What the planner needs of the service's configuration (NotificationsConfig)."""

    @property
    def policy(self) -> NotificationPolicy: ...
    @property
    def lookup_url(self) -> str | None: ...


# -- which notices --------------------------------------------------------------------------------------


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


def wanted_channels(kind: NoticeKind, d: DossierView, config: PlanningConfig) -> list[tuple[Channel, str]]:
    """(channel, recipient) for each channel switched on for the kind that the citizen can be reached on."""
    return [(ch, to) for ch, to in ((Channel.SMS, d.phone), (Channel.EMAIL, d.email))
            if to and config.policy.enabled(kind, ch)]


def plan_notices(
    kind: NoticeKind, d: DossierView, event_id: str, extra: dict[str, Any], config: PlanningConfig
) -> list[PlannedNotice]:
    """One notice per channel that is switched on and that the citizen can be reached on; a notice whose
    moment has already passed (the dossier moved on) is planned as expired."""
    wanted = wanted_channels(kind, d, config)
    if not wanted:
        return []
    context = notice_context(kind, d, extra, config.lookup_url).model_dump(mode="json")
    stale = f"stale: the dossier is {d.state}" if is_stale(kind, d.state) else None
    return [PlannedNotice(notice_key(str(d.dossier_id), event_id, ch), ch, to, context, stale) for ch, to in wanted]


# -- a consumer batch -------------------------------------------------------------------------------------

# The notice kinds a dossier entering each state makes stale.
STALE_KINDS: dict[str, frozenset[str]] = {
    state.value: frozenset(k.value for k in NoticeKind if is_stale(k, state)) for state in DossierState
}
# Stands for the dossier when an event is checked on arrival: its fields are never the missing ones.
_PLACEHOLDER = DossierView(UUID(int=0), "-", "-", None, None, "-", "-", DossierState.SUBMITTED.value,
                           datetime(2000, 1, 1, tzinfo=UTC), None)


def check_event(facts: EventFacts, config: PlanningConfig) -> None:
    """Refuse (MissingContextError, ValidationError) an event whose own data cannot make the notice it calls
    for, whatever the dossier: the consumer then dead-letters that event alone."""
    kind = facts.kind
    if kind is not None and any(config.policy.enabled(kind, ch) for ch in Channel):
        notice_context(kind, _PLACEHOLDER, facts.extra, config.lookup_url)


@dataclass(frozen=True, slots=True)
class Pending:
    """An event of the batch, read and checked, to be planned with the others."""

    dossier_id: UUID
    code: str
    event_id: str
    facts: EventFacts
    at: datetime  # when the event happened
    now: datetime  # when it was applied
    origin: int  # its position in the batch: the events it causes carry its trace
    trace: str | None = None  # its traceparent, stored with its notices: their outcomes continue its trace


@dataclass(frozen=True, slots=True)
class NewNotice:
    notice: Notice
    origin: int


@dataclass
class BatchPlan:
    """What a batch of events changes (pure: built from the rows the batch read)."""

    dossiers: dict[UUID, Dossier]
    created: set[UUID]  # dossiers whose row does not exist yet
    notices: dict[str, NewNotice] = field(default_factory=dict)  # by key, in the order recorded
    keys: dict[UUID, list[str]] = field(default_factory=dict)  # keys of `notices` by dossier
    held: list[Held] = field(default_factory=list)  # to keep (contact still unknown)
    released: set[UUID] = field(default_factory=set)  # dossiers whose stored held notices were recorded
    moves: dict[UUID, list[tuple[str, int]]] = field(default_factory=dict)  # state changes (state, origin), in order

    def stored_to_check(self) -> tuple[list[UUID], list[str]]:
        """(dossiers, kinds) of the stored open notices this batch's state changes may expire."""
        kinds = set().union(*(STALE_KINDS.get(s, frozenset()) for m in self.moves.values() for s, _ in m))
        return [d for d in self.moves if d not in self.created], sorted(kinds)


def plan_batch(
    items: list[Pending], dossiers: dict[UUID, Dossier], stored_held: dict[UUID, list[Held]], config: PlanningConfig,
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
        apply_facts(d, facts, item.at, item.now)
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
            plan.moves.setdefault(d.dossier_id, []).append((d.dossier_state, item.origin))
    plan.held = [h for d, held in waiting.items() for h in held if d not in stored_held or h not in stored_held[d]]
    return plan


def _record(plan: BatchPlan, d: Dossier, kind: NoticeKind, event_id: str, extra: dict[str, Any], item: Pending,
            config: PlanningConfig) -> None:
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
            created_at=item.now, updated_at=item.now, context=p.context, trace=item.trace,
        )
        plan.notices[p.key] = NewNotice(notice, item.origin)
        plan.keys.setdefault(d.dossier_id, []).append(p.key)


def _expire_recorded(plan: BatchPlan, d: Dossier, item: Pending) -> None:
    """Notices recorded earlier in the batch whose moment passed with this event."""
    for key in plan.keys.get(d.dossier_id, ()):
        n = plan.notices[key].notice
        if n.status == NoticeStatus.CREATED and is_stale(n.kind, d.dossier_state):
            expired = replace(n, status=NoticeStatus.EXPIRED.value, reason=f"stale: the dossier is {d.dossier_state}",
                              updated_at=item.now)
            plan.notices[key] = NewNotice(expired, item.origin)


def expire_steps(notices: list[Notice], moves: dict[UUID, list[tuple[str, int]]]) -> list[tuple[Step, int]]:
    """Stored notices (open) whose moment passed with one of the batch's state changes (the first such),
    with the origin of that change."""
    steps = []
    for n in notices:
        for state, origin in moves.get(n.dossier_id, ()):
            if is_stale(n.kind, state):
                before = progress_of(n)
                steps.append((Step(n, before, expire(before, f"stale: the dossier is {state}")), origin))
                break
    return steps


@dataclass
class BatchOutcome:
    """What the written batch tells the world: outcome events (with the origin whose trace they carry), in
    the order to stage them, and the metric samples to count once committed."""

    events: list[tuple[int, NoticeEvent]] = field(default_factory=list)
    counts: Counts = field(default_factory=list)


def settle_batch(
    plan: BatchPlan, written: set[str], steps: list[tuple[Step, int]], saved: set[UUID], now: datetime
) -> BatchOutcome:
    """The outcome of the notices the store recorded (`written` keys: not recorded before) and of the stored
    notices' steps it saved."""
    out = BatchOutcome()
    for new in plan.notices.values():
        n = new.notice
        if n.key not in written:
            continue  # recorded before (same dossier, event and channel)
        out.counts.append((n.channel, n.kind, NoticeStatus.CREATED.value))
        if n.status != NoticeStatus.CREATED:
            out.counts.append((n.channel, n.kind, n.status))
            event = outcome_event(n, progress_of(n), n.updated_at or now)
            if event is not None:
                out.events.append((new.origin, event))
    for step, origin in steps:
        if step.notice.id in saved:
            out.counts.append((step.notice.channel, step.notice.kind, step.after.status.value))
            event = outcome_event(step.notice, step.after, now)
            if event is not None:
                out.events.append((origin, event))
    return out
