"""Which forms (biểu mẫu, DOMAIN §1.3) a dossier has, and the data each one is rendered from. Pure.

01 Giấy tiếp nhận hồ sơ và hẹn trả kết quả · 02 Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ ·
03 Phiếu từ chối tiếp nhận giải quyết hồ sơ · 04 Phiếu xin lỗi và hẹn lại ngày trả kết quả ·
Phiếu kiểm soát quá trình giải quyết hồ sơ (process-control slip) · Sổ theo dõi hồ sơ (tracking book)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from services.intake.domain.desk import InvalidInput
from services.intake.domain.states import DeskState

MAX_BOOK_DAYS = 366


class Form(StrEnum):
    RECEIPT = "receipt"  # 01
    SUPPLEMENT = "supplement"  # 02
    REFUSAL = "refusal"  # 03
    APOLOGY = "apology"  # 04
    CONTROL = "control"  # phiếu kiểm soát (05 in the 2018 set, 06 in the 2025 set)


_ALIASES = {"01": Form.RECEIPT, "02": Form.SUPPLEMENT, "03": Form.REFUSAL, "04": Form.APOLOGY}


def parse_form(name: str) -> Form:
    try:
        return _ALIASES.get(name) or Form(name)
    except ValueError:
        known = ", ".join([*_ALIASES, *(f.value for f in Form)])
        raise InvalidInput(f"unknown form {name!r}; use one of {known}") from None


@dataclass(frozen=True)
class HistoryEntry:
    """One event in the dossier's life, as kept in intake's `dossier_history`."""

    kind: str  # e.g. case.step_completed, dossier.withdrawn
    at: datetime
    actor: str
    agency: str
    state_code: int | None = None
    handover: bool = False
    receiver: str | None = None
    receiver_agency: str | None = None
    step_code: str | None = None
    step_name: str | None = None
    step_deadline: datetime | None = None
    timeliness: str | None = None  # early | on_time | late
    note: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SupplementRequest:
    at: datetime
    actor: str
    agency: str
    items: list[str]
    reason: str


@dataclass(frozen=True)
class Apology:
    at: datetime
    agency: str
    reason: str
    previous_appointment_at: datetime | None
    appointment_at: datetime | None


def _latest(history: Iterable[HistoryEntry], kind: str) -> HistoryEntry | None:
    found = [h for h in history if h.kind == kind]
    return max(found, key=lambda h: h.at) if found else None


def supplement_request(history: Iterable[HistoryEntry]) -> SupplementRequest | None:
    h = _latest(history, "case.supplement_requested")
    if h is None:
        return None
    items = [str(i) for i in h.data.get("items", [])]
    return SupplementRequest(h.at, h.actor, h.agency, items, str(h.data.get("reason", h.note)))


def apology(history: Iterable[HistoryEntry]) -> Apology | None:
    h = _latest(history, "case.deadline_extended")
    if h is None:
        return None
    return Apology(h.at, h.agency, str(h.data.get("reason", h.note)),
                   _when(h.data.get("previous_appointment_at")), _when(h.data.get("appointment_at")))


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None


def promised_appointment(history: Iterable[HistoryEntry]) -> datetime | None:
    """The appointment printed on the receipt (Form 01): the one given at receipt, before any extension."""
    h = _latest(history, "dossier.received")
    return _when(h.data.get("appointment_at")) if h is not None else None


def control_rows(history: Iterable[HistoryEntry]) -> list[HistoryEntry]:
    """The process-control slip: one row per hand-over (giver → receiver), in time order."""
    return sorted((h for h in history if h.handover), key=lambda h: h.at)


def unavailable(form: Form, state: DeskState, history: list[HistoryEntry]) -> str | None:
    """Why this dossier has no such form, or None when it can be rendered."""
    refused = state == DeskState.REFUSED
    if form == Form.RECEIPT and refused:
        return "a refused dossier has no receipt (Form 01); see its refusal (Form 03)"
    if form == Form.CONTROL and refused:
        return "a refused dossier never entered the workflow, so it has no process-control slip"
    if form == Form.REFUSAL and not refused:
        return "this dossier was not refused, so it has no Form 03"
    if form == Form.SUPPLEMENT and supplement_request(history) is None:
        return "no supplement was requested for this dossier, so it has no Form 02"
    if form == Form.APOLOGY and apology(history) is None:
        return "the appointment of this dossier was never extended, so it has no Form 04"
    return None


def book_period(start: date, end: date) -> tuple[date, date]:
    """The tracking book (sổ theo dõi hồ sơ) covers receipt days start..end, both inclusive."""
    if end < start:
        raise InvalidInput(f"the period ends ({end}) before it starts ({start})")
    if (end - start).days >= MAX_BOOK_DAYS:
        raise InvalidInput(f"a tracking book covers at most {MAX_BOOK_DAYS} days")
    return start, end
