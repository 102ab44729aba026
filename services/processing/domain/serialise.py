"""Case ⇄ plain dict (JSON types only) for storage; the calendar stays outside."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from services.processing.domain.plan import ProcedurePlan
from services.processing.domain.result_file import AttachedResult
from services.processing.domain.states import CaseState, SubState
from services.processing.domain.steps import Handoff, Step

if TYPE_CHECKING:
    from services.processing.domain.case_base import CaseData

FORMAT = 1
_MOMENTS = ("received_at", "appointment_at", "original_appointment_at", "paused_since", "closed_at")
_RECORD_MOMENTS = frozenset(
    {"started_at", "deadline", "completed_at", "sent_at", "ack_due_at", "acknowledged_at"}
)
_PLAIN = (
    "dossier_id", "code", "receiving_agency", "competent_agency", "holder_agency", "total_hours",
    "current", "extended", "extension_reason", "outcome", "payment_amount_vnd", "return_method",
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


_NAMES: dict[type, tuple[str, ...]] = {}


def _record_to_dict(record: Step | Handoff) -> dict[str, Any]:
    # Field by field rather than `asdict`, which deep-copies every value: these fields are all scalars.
    names = _NAMES.get(type(record))
    if names is None:
        names = _NAMES[type(record)] = tuple(f.name for f in fields(record))
    data: dict[str, Any] = {}
    for name in names:
        value = getattr(record, name)
        data[name] = value.isoformat() if isinstance(value, datetime) else value
    return data


def _record_from_dict(kind: type[Step] | type[Handoff], data: Mapping[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for f in fields(kind):
        value = data.get(f.name)
        values[f.name] = _moment(value) if f.name in _RECORD_MOMENTS else value
    return kind(**{k: v for k, v in values.items() if k in data})


def handoff_from_dict(data: Mapping[str, Any]) -> Handoff:
    """One stored hand-over (an item of `case_to_dict(...)["handoffs"]`)."""
    handoff: Handoff = _record_from_dict(Handoff, data)
    return handoff


def case_to_dict(case: CaseData) -> dict[str, Any]:
    data: dict[str, Any] = {"format": FORMAT, "procedure": dict(case.procedure.raw)}
    data.update({name: getattr(case, name) for name in _PLAIN})
    data.update({name: _iso(getattr(case, name)) for name in _MOMENTS})
    data["state"] = int(case.state)
    data["sub_state"] = case.sub_state.value if case.sub_state else None
    data["resume_state"] = int(case.resume_state) if case.resume_state else None
    data["steps"] = [_record_to_dict(s) for s in case.steps]
    data["handoffs"] = [_record_to_dict(h) for h in case.handoffs]
    data["flags"] = sorted(case.flags)
    data["result_file"] = case.result_file.to_dict() if case.result_file else None
    return data


def case_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor arguments of a case (all but the calendar) from `case_to_dict` output."""
    values: dict[str, Any] = {name: data[name] for name in _PLAIN}
    values.update({name: _moment(data.get(name)) for name in _MOMENTS})
    values["procedure"] = ProcedurePlan.from_snapshot(data["procedure"])
    values["state"] = CaseState(data["state"])
    values["sub_state"] = SubState(data["sub_state"]) if data.get("sub_state") else None
    values["resume_state"] = CaseState(data["resume_state"]) if data.get("resume_state") else None
    values["steps"] = [_record_from_dict(Step, s) for s in data["steps"]]
    values["handoffs"] = [_record_from_dict(Handoff, h) for h in data.get("handoffs", [])]
    values["flags"] = set(data.get("flags", []))
    attached = data.get("result_file")  # absent from cases stored before results were files
    values["result_file"] = AttachedResult.from_dict(attached) if attached else None
    return values
