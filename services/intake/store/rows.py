"""Rows <-> what the use cases and the domain work with: the desk's view of a dossier (DeskDossier), the
history rows of the forms (HistoryEntry), a processing event's history row, and a fast transient DossierRow."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import configure_mappers

from libs.contracts import Envelope
from libs.contracts.processing import CaseEvent
from services.intake.domain.desk import DeskDossier, kind_of
from services.intake.domain.forms import HistoryEntry
from services.intake.domain.states import DeskState
from services.intake.store.tables import DOSSIERS, DossierHistoryRow, DossierRow

DESK_FIELDS = [f.name for f in fields(DeskDossier)]
MUTABLE_FIELDS = [name for name in DESK_FIELDS if name not in ("code", "receiving_agency")]
DOSSIER_COLUMNS = [c.name for c in DOSSIERS.columns if c.name != "code"]  # what a receipt writes besides its code


# --- DossierRow <-> the pure desk view ------------------------------------------------------------------
def to_desk(row: DossierRow) -> DeskDossier:
    values: dict[str, Any] = {name: getattr(row, name) for name in DESK_FIELDS}
    values["state"] = DeskState(row.state)
    return DeskDossier(**values)


def store_desk(row: DossierRow, d: DeskDossier) -> None:
    for name in DESK_FIELDS:
        value = getattr(d, name)
        setattr(row, name, value.value if isinstance(value, DeskState) else value)


def desk_of(row: RowMapping) -> DeskDossier:
    """The desk view from a SELECT of the desk columns (`DESK_FIELDS`)."""
    values: dict[str, Any] = {name: row[name] for name in DESK_FIELDS}
    values["state"] = DeskState(values["state"])
    return DeskDossier(**values)


def mutable_values(d: DeskDossier) -> dict[str, Any]:
    """The columns following may change, as stored."""
    values = {name: getattr(d, name) for name in MUTABLE_FIELDS}
    values["state"] = d.state.value
    return values


def dossier_values(row: DossierRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in DOSSIER_COLUMNS}


# --- history ------------------------------------------------------------------------------------------------
def history_entries(rows: list[DossierHistoryRow]) -> list[HistoryEntry]:
    return [
        HistoryEntry(
            kind=kind_of(h.event_type), at=h.at, actor=h.actor, agency=h.agency, state_code=h.state,
            handover=h.handover, receiver=h.receiver, receiver_agency=h.receiver_agency, step_code=h.step_code,
            step_name=h.step_name, step_deadline=h.step_deadline, timeliness=h.timeliness, note=h.note, data=h.data,
        )
        for h in rows
    ]


def case_history(event: CaseEvent, envelope: Envelope) -> dict[str, Any]:
    """The history row of one of processing's events (`data`: the whole payload)."""
    return {
        "dossier_id": event.dossier_id, "event_id": envelope.id, "event_type": envelope.type,
        "source": envelope.source, "at": event.at, "actor": event.actor, "agency": event.agency,
        "state": event.state, "sub_state": event.sub_state, "handover": event.handover, "receiver": event.receiver,
        "receiver_agency": event.receiver_agency, "step_code": event.step_code, "step_name": event.step_name,
        "step_deadline": event.step_deadline, "timeliness": event.timeliness, "note": event.note,
        "data": event.model_dump(mode="json"),
    }


# --- a DossierRow without the constructor -------------------------------------------------------------------
configure_mappers()  # `new_row` builds rows without the constructor, which would configure them
# Every column's default, for `new_row` (the factories give fresh dicts and lists each time).
_ROW_DEFAULTS = {name: f for name, f in DossierRow.model_fields.items() if not f.is_required()}
_ROW_FACTORY = sa_inspect(DossierRow).class_manager


def new_row(**values: Any) -> DossierRow:
    """A transient DossierRow from complete column values, built the way the ORM builds a loaded row (a new
    instance with its state, the values put in its dict): `DossierRow(**values)` would instead go through
    SQLModel's and SQLAlchemy's instrumented setattr once per column (about 100 µs a receipt)."""
    row: DossierRow = _ROW_FACTORY.new_instance()
    data = row.__dict__
    for name, f in _ROW_DEFAULTS.items():
        if name not in values:
            data[name] = f.get_default(call_default_factory=True)
    data.update(values)
    object.__setattr__(row, "__pydantic_fields_set__", set(values))
    return row
