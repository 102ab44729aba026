"""Service layer: which notices an event calls for, and recording them in the consumer's transaction.

The decisions are pure functions (`facts_of`, `next_state`, `plan_notices`, `outcome_event`); `NoticeBook`
applies them to the database. Nothing here sends: the delivery loop (delivery.py) does, after commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic_core import to_jsonable_python
from sqlalchemy import Table, delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts import Envelope, Event
from libs.contracts import intake as ie
from libs.contracts import processing as pe
from libs.contracts.notifications import NoticeDelivered, NoticeEvent, NoticeFailed
from libs.db import insert_ignore
from libs.messaging import enqueue
from services.notifications.adapters.config import NotificationsConfig
from services.notifications.domain import (
    Channel,
    DossierState,
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
    CONTACTS,
    NOTICES,
    ContactRow,
    HeldNoticeRow,
    NoticeRow,
    progress_of,
    save_progress,
)

log = logging.getLogger(__name__)
S = DossierState
OPEN = (NoticeStatus.CREATED.value, NoticeStatus.TEMPORARY_FAILURE.value)  # may still be sent or expired
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
    def of(cls, row: ContactRow) -> DossierView:
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


def plan_notices(
    kind: NoticeKind, d: DossierView, event_id: str, extra: dict[str, Any], config: NotificationsConfig
) -> list[PlannedNotice]:
    """One notice per channel that is switched on and that the citizen can be reached on; a notice whose
    moment has already passed (the dossier moved on) is planned as expired."""
    wanted = [(ch, to) for ch, to in ((Channel.SMS, d.phone), (Channel.EMAIL, d.email))
              if to and config.policy.enabled(kind, ch)]
    if not wanted:
        return []
    context = notice_context(kind, d, extra, config.lookup_url).model_dump(mode="json")
    stale = f"stale: the dossier is {d.state}" if is_stale(kind, d.state) else None
    return [PlannedNotice(notice_key(str(d.dossier_id), event_id, ch), ch, to, context, stale) for ch, to in wanted]


def outcome_event(row: NoticeRow, progress: NoticeProgress, at: datetime) -> NoticeEvent | None:
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


@dataclass
class NoticeBook:
    """Applies intake/processing events: keeps the dossier's contact and state, records notices."""

    config: NotificationsConfig
    outbox: Table
    metrics: NoticeMetrics

    async def apply(self, session: AsyncSession, event: Event, env: Envelope, now: datetime) -> None:
        facts = facts_of(event)
        row = await self._dossier(session, event, now)
        newly_known = facts.contact is not None and not row.contact_known
        at = event_time(event, env)
        state_before = row.dossier_state
        _update(row, facts, at, now)
        session.add(row)
        await session.flush()
        if newly_known:
            await self._release_held(session, row, now)
        if facts.kind is not None:
            if row.contact_known:
                await self._record(session, row, facts.kind, env.id, facts.extra, now)
            else:
                session.add(HeldNoticeRow(event_id=env.id, dossier_id=row.dossier_id, kind=facts.kind.value,
                                          extra=facts.extra, event_at=at, created_at=now))
        if row.dossier_state != state_before:
            await self._expire_stale(session, row, now)

    async def _dossier(self, session: AsyncSession, event: Event, now: datetime) -> ContactRow:
        """The dossier's row, created bare if this is the first event about it; locked for this transaction."""
        await insert_ignore(session, CONTACTS, {
            "dossier_id": event.dossier_id, "code": event.code, "full_name": "", "agency_name": "",
            "dossier_state": S.SUBMITTED.value, "updated_at": now, "contact_known": False,
            "receiving_agency": "", "procedure_name": "",
        })
        query = select(ContactRow).where(ContactRow.dossier_id == event.dossier_id).with_for_update()
        return (await session.exec(query.execution_options(populate_existing=True))).one()

    async def _record(
        self, session: AsyncSession, row: ContactRow, kind: NoticeKind, event_id: str, extra: dict[str, Any],
        now: datetime,
    ) -> None:
        for plan in plan_notices(kind, DossierView.of(row), event_id, extra, self.config):
            notice = NoticeRow(
                id=uuid4(), key=plan.key, dossier_id=row.dossier_id, code=row.code, event_id=event_id,
                kind=kind.value, channel=plan.channel.value, recipient=plan.recipient,
                status=NoticeStatus.CREATED.value, context=plan.context, created_at=now, updated_at=now,
            )
            if not await insert_ignore(session, NOTICES, notice.model_dump()):
                continue  # recorded before (same dossier, event and channel)
            self.metrics.count(notice.channel, notice.kind, NoticeStatus.CREATED.value)
            if plan.expired_because:
                await self._expire(session, notice, plan.expired_because, now)

    async def _release_held(self, session: AsyncSession, row: ContactRow, now: datetime) -> None:
        query = select(HeldNoticeRow).where(HeldNoticeRow.dossier_id == row.dossier_id)
        held = (await session.exec(query.order_by(col(HeldNoticeRow.event_at)))).all()
        for h in held:
            await self._record(session, row, NoticeKind(h.kind), h.event_id, h.extra, now)
        if held:
            await session.exec(delete(HeldNoticeRow).where(col(HeldNoticeRow.dossier_id) == row.dossier_id))

    async def _expire_stale(self, session: AsyncSession, row: ContactRow, now: datetime) -> None:
        """Notices not yet out whose moment passed with this event are expired, not sent."""
        query = select(NoticeRow).where(NoticeRow.dossier_id == row.dossier_id, col(NoticeRow.status).in_(OPEN))
        for notice in (await session.exec(query.with_for_update())).all():
            if is_stale(notice.kind, row.dossier_state):
                await self._expire(session, notice, f"stale: the dossier is {row.dossier_state}", now)

    async def _expire(self, session: AsyncSession, notice: NoticeRow, reason: str, now: datetime) -> None:
        before = progress_of(notice)
        after = expire(before, reason)
        if await save_progress(session, notice.id, before, after, now):
            event = outcome_event(notice, after, now)
            if event is not None:
                await enqueue(session, self.outbox, event, now)
            self.metrics.count(notice.channel, notice.kind, after.status.value)


def _update(row: ContactRow, facts: EventFacts, at: datetime, now: datetime) -> None:
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
