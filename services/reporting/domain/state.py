"""One dossier's row of the read model as the fold keeps it (pure: no I/O): `FactState`, its columns in
storage order, and its conversions to and from stored rows (JSON pairs as Python values or text)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from services.reporting.domain.facts import CHANNELS, LEVELS, ONLINE_LEVELS, FactRow

Pair = tuple[datetime, datetime]
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)  # known_at for a row whose appointment no longer moves


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


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
    e_certified_copies_done: int = 0  # no longer derived: certification facts count e-certified copies
    documents_scanned: int = 0  # manifest papers in digitisation state 1, 2 or 3 (docs/domain.md §4.4)
    documents_reused: int = 0  # of which reused (state 2 or 3)
    scanned_items: str = ""  # the distinct checklist items they cover, "1,2,5" (a union: order-independent)
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
            e_certified_copies_done=0, documents_scanned=max(0, self.documents_scanned),
            documents_reused=min(max(0, self.documents_scanned), max(0, self.documents_reused)),
            items_scanned=min(max(0, self.documents_scanned), len(items_of(self.scanned_items))),
            electronic_result=self.electronic_result,
            online_payment=self.online_payment,
            rating=self.rating if self.rating is not None and 1 <= self.rating <= 5 else None,
            refused_at_desk=self.refused_at_desk, waiting_supplement_since=self.waiting_supplement_since,
            supplement_waits=self.supplement_waits, earlier_appointments=self.appointment_history)


def items_of(text: str) -> set[int]:
    """The checklist items of `scanned_items` ("1,2,5")."""
    return {int(part) for part in text.split(",") if part}


def items_text(items: set[int]) -> str:
    return ",".join(str(n) for n in sorted(items))


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
