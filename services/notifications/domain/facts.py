"""What an intake or processing event tells notifications (pure): the dossier's contact and state after it,
the notice it calls for, and the template variables that notice takes from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python

from libs.contracts import Envelope, Event
from libs.contracts import intake as ie
from libs.contracts import processing as pe
from services.notifications.domain.kinds import NoticeKind
from services.notifications.domain.records import Dossier
from services.notifications.domain.stale import DossierState, state_from_code

S = DossierState
# Warnings to officers, not changes of the dossier: notifications ignores them.
IGNORED: frozenset[type[Event]] = frozenset({ie.DossierRated, pe.Overdue, pe.DueSoon, pe.HandoffAckOverdue})


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


def apply_facts(row: Dossier, facts: EventFacts, at: datetime, now: datetime) -> None:
    """The dossier as the event leaves it (contact, latest state, appointment, rejection reason)."""
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
