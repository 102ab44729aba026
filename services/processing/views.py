"""What officers see: a case with its steps, hand-overs, history, process-control slip and attached result file
(JSON-ready)."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from services.processing.domain import (
    EVENT_TYPES,
    AttachedResult,
    Case,
    CaseEvent,
    CaseState,
    SlipRow,
    SubState,
    control_slip,
)
from services.processing.domain.steps import Step, timeliness
from services.processing.store import CaseEventRow, CaseRow

_EVENT_CLASSES: dict[str, type[CaseEvent]] = {cls.type: cls for cls in EVENT_TYPES}


def event_from_dict(data: Mapping[str, Any]) -> CaseEvent:
    """The domain event back from its stored `to_dict()` form (the inverse the slip needs)."""
    cls = _EVENT_CLASSES[data["type"]]
    hints = typing.get_type_hints(cls)
    values = {f.name: _typed(hints[f.name], data[f.name]) for f in fields(cls) if f.name in data}
    return cls(**values)


def _typed(hint: Any, raw: Any) -> Any:
    if raw is None:
        return None
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for option in options:
        if option is datetime:
            return datetime.fromisoformat(raw)
        if isinstance(option, type) and issubclass(option, Enum):
            return option(raw)
        if typing.get_origin(option) is tuple:
            return tuple(raw)
    return raw


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def summary(row: CaseRow) -> dict[str, Any]:
    """One line of a work queue (from the columns and the stored case, no event log)."""
    data = row.data
    state = CaseState(row.state)
    sub = SubState(row.sub_state) if row.sub_state else None
    procedure = data.get("procedure", {})
    return {
        "dossier_id": str(row.dossier_id),
        "code": row.code,
        "procedure_code": row.procedure_code,
        "procedure_name": procedure.get("name", ""),
        "state": int(state),
        "state_name": state.name.lower(),
        "state_label": state.label,
        "sub_state": sub.value if sub else None,
        "sub_state_label": sub.label if sub else None,
        "step_code": row.step_code,  # the current step, for the console's work queue
        "step_name": row.step_name,
        "receiving_agency": row.receiving_agency,
        "competent_agency": row.competent_agency,
        "holder_agency": row.holder_agency,
        "received_at": _iso(_moment(data.get("received_at"))),
        "appointment_at": _iso(row.appointment_at),
        "original_appointment_at": _iso(_moment(data.get("original_appointment_at"))),
        "extended": row.extended,
        "overdue": row.overdue,
        "ack_due_at": _iso(row.ack_due_at),
        "outcome": data.get("outcome"),
        "opened_at": _iso(row.opened_at),
        "updated_at": _iso(row.updated_at),
        "closed_at": _iso(row.closed_at),
        "version": row.version,
        # The attached signed result file's document id (from its column), for a work queue's mark.
        "result_document": (row.result_file or {}).get("document", {}).get("document_id"),
    }


def detail(row: CaseRow, case: Case, events: Iterable[CaseEventRow]) -> dict[str, Any]:
    """The full case: steps with their deadlines, hand-overs, history and the control slip."""
    domain_events = [event_from_dict(e.data) for e in events]
    current = case.active_step or case.current_step
    return {
        **summary(row),
        "extension_reason": case.extension_reason or None,
        "payment_amount_vnd": case.payment_amount_vnd,
        "return_method": case.return_method,
        "flags": sorted(case.flags),
        "current_step": current.code if current else None,
        "steps": [_step(step) for step in case.steps],
        "handoffs": [
            {"kind": h.kind, "from_agency": h.from_agency, "to_agency": h.to_agency, "sent_at": _iso(h.sent_at),
             "sent_by": h.sent_by, "ack_due_at": _iso(h.ack_due_at), "acknowledged_at": _iso(h.acknowledged_at),
             "acknowledged_by": h.acknowledged_by, "pending": h.pending}
            for h in case.handoffs
        ],
        "history": [
            {"type": e.type, "at": _iso(e.at), "actor": e.actor, "agency": e.agency, "state": int(e.state),
             "state_label": e.state.label, "sub_state": e.sub_state.value if e.sub_state else None,
             "step_code": e.step_code, "note": e.note}
            for e in domain_events
        ],
        "slip": [_slip_row(r) for r in control_slip(domain_events)],
        "result": _result(case.result_file),
    }


def _result(attached: AttachedResult | None) -> dict[str, Any] | None:
    """The signed result file the case knows of (its bytes are read from intake, as every document's)."""
    if attached is None:
        return None
    doc = attached.document
    return {"document_id": attached.document_id, "sha256": attached.sha256, "size": doc.get("size"),
            "media_type": doc.get("media_type"), "attached_at": _iso(attached.attached_at),
            "attached_by": attached.attached_by, "agency": attached.agency}


def _step(step: Step) -> dict[str, Any]:
    if step.skipped:
        status = "skipped"
    elif step.completed_at is not None:
        status = "done"
    elif step.is_active:
        status = "active"
    else:
        status = "pending"
    done = timeliness(step.completed_at, step.deadline) if step.completed_at else None
    return {
        "code": step.code, "name": step.name, "owner": step.owner, "role": step.role, "agency": step.agency,
        "share": step.share, "status": status, "assignee": step.assignee, "started_at": _iso(step.started_at),
        "deadline": _iso(step.deadline), "completed_at": _iso(step.completed_at), "completed_by": step.completed_by,
        "timeliness": done.value if done else None, "timeliness_label": done.label if done else None,
    }


def _slip_row(row: SlipRow) -> dict[str, Any]:
    return {
        "step_code": row.step_code, "step_name": row.step_name, "giver": row.giver, "giver_agency": row.giver_agency,
        "receiver": row.receiver, "receiver_agency": row.receiver_agency,
        "handed_over_at": _iso(row.handed_over_at), "step_deadline": _iso(row.step_deadline),
        "result": row.result.value if row.result else None, "result_label": row.result_label, "note": row.note,
    }
