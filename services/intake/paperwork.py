"""The data each form template is rendered with, from intake's own rows (no other service is asked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from libs.catalogue import Catalogue, CatalogueError
from services.intake.domain import forms
from services.intake.domain.forms import Form, HistoryEntry
from services.intake.domain.states import DeskState
from services.intake.store.rows import history_entries
from services.intake.store.tables import DossierHistoryRow, DossierRow, PaperRequestRow
from services.intake.texts import label, text

APPLICANT = "applicant"  # receiver of the last slip row: the person who filed


class FormUnavailable(LookupError):
    """This dossier has no such form (e.g. Form 04 when the appointment was never extended)."""


@dataclass(frozen=True)
class AgencyName:
    eid: str
    name: str
    short_name: str


def _agency(catalogue: Catalogue, eid: str) -> AgencyName:
    try:
        agency = catalogue.agency(eid)
    except CatalogueError:  # an agency dropped from the configuration since: show its e-ID
        return AgencyName(eid, eid, eid)
    return AgencyName(agency.eid, agency.name, agency.short_name)


def _agency_name(catalogue: Catalogue, eid: str | None) -> str:
    return _agency(catalogue, eid).short_name if eid else ""


def dossier_form(
    form_name: str, row: DossierRow, history_rows: list[DossierHistoryRow], catalogue: Catalogue, now: datetime
) -> tuple[str, dict[str, Any]]:
    """(template, context) for form 01–04 or the process-control slip of one dossier."""
    form = forms.parse_form(form_name)
    history = history_entries(history_rows)
    reason = forms.unavailable(form, DeskState(row.state), history)
    if reason is not None:
        raise FormUnavailable(reason)
    context = _common(row, catalogue, now)
    if form == Form.RECEIPT:
        context["appointment_at"] = forms.promised_appointment(history) or row.appointment_at
    elif form == Form.SUPPLEMENT:
        request = forms.supplement_request(history)
        assert request is not None
        context |= {"items": request.items, "reason": request.reason, "has_code": True}
    elif form == Form.REFUSAL:
        context["reason"] = row.refusal_reason or ""
    elif form == Form.APOLOGY:
        apology = forms.apology(history)
        assert apology is not None
        context |= {"apology": apology, "apology_agency": _agency(catalogue, apology.agency).name}
    elif form == Form.CONTROL:
        context |= _control(row, history, catalogue) | {"chain_head": chain_head(history_rows)}
    return form.value, context


def _common(row: DossierRow, catalogue: Catalogue, now: datetime) -> dict[str, Any]:
    procedure = row.procedure
    limit = procedure.get("time_limit", {})
    unit = label("time_units", limit.get("unit"))
    value = limit.get("value")
    return {
        "code": row.code, "issued_at": now, "agency": _agency(catalogue, row.receiving_agency),
        "applicant": {"name": row.applicant_name, "personal_id": row.personal_id, "phone": row.phone,
                      "email": row.email},
        "procedure": {"code": row.procedure_code, "name": procedure.get("name", row.procedure_code)},
        "channel": label("channels", row.channel), "documents": row.documents,
        "received_at": row.received_at, "appointment_at": row.appointment_at,
        "time_limit": unit if limit.get("unit") == "same_day" else f"{_number(value)} {unit}",
        "officer_name": row.received_by_name or "",
    }


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value or "")


def chain_head(history_rows: list[DossierHistoryRow]) -> str | None:
    """The stored hash of the dossier's last chained history entry (issue 17 §4), None before its chain starts."""
    chained = [h for h in history_rows if h.seq is not None]
    return max(chained, key=lambda h: h.seq or 0).hash if chained else None


def _control(row: DossierRow, history: list[HistoryEntry], catalogue: Catalogue) -> dict[str, Any]:
    lead = str(row.procedure.get("competent_agency", row.receiving_agency))
    rows = []
    involved: list[str] = []
    for h in forms.control_rows(history):
        receiver = text("applicant") if h.receiver == APPLICANT else (h.receiver or "")
        rows.append({
            "step_name": h.step_name, "giver": h.actor, "giver_agency": _agency_name(catalogue, h.agency),
            "receiver": receiver, "receiver_agency": _agency_name(catalogue, h.receiver_agency), "at": h.at,
            "step_deadline": h.step_deadline, "result": label("timeliness", h.timeliness),
            "note": label("handover_methods", h.note) if h.kind == "case.result_handed_over" else h.note,
        })
        involved += [a for a in (h.agency, h.receiver_agency) if a]
    coordinating = sorted({_agency(catalogue, a).name for a in involved if a not in (lead, row.receiving_agency)})
    return {"rows": rows, "lead_agency": _agency(catalogue, lead).name, "coordinating": coordinating}


def paper_request_form(req: PaperRequestRow, catalogue: Catalogue) -> tuple[str, dict[str, Any]]:
    return "supplement", {
        "code": str(req.id)[:8].upper(), "has_code": False, "issued_at": req.issued_at,
        "agency": _agency(catalogue, req.agency), "applicant": {"name": req.applicant_name},
        "procedure": {"code": req.procedure_code, "name": req.procedure_name},
        "items": req.items, "reason": req.reason, "officer_name": req.officer_name,
    }


def tracking_book(
    agency: str, start: date, end: date, rows: list[DossierRow], catalogue: Catalogue, now: datetime
) -> tuple[str, dict[str, Any]]:
    lines = [{
        "code": r.code, "procedure_name": r.procedure.get("name", r.procedure_code), "applicant_name": r.applicant_name,
        "phone": r.phone, "channel": label("channels", r.channel), "received_at": r.received_at,
        "appointment_at": r.appointment_at, "handed_over_at": r.handed_over_at,
        "received_by": r.received_by_name or r.received_by or "", "state": label("states", r.state),
        "note": r.refusal_reason or "",
    } for r in rows]
    return "tracking_book", {
        "code": f"STD-{agency}-{start:%Y%m%d}", "issued_at": now, "agency": _agency(catalogue, agency),
        "start": start, "end": end, "rows": lines,
    }


def tracking_json(rows: list[DossierRow]) -> list[dict[str, Any]]:
    return [{
        "code": r.code, "procedure_code": r.procedure_code, "procedure_name": r.procedure.get("name", ""),
        "applicant_name": r.applicant_name, "phone": r.phone, "channel": r.channel,
        "received_at": r.received_at, "appointment_at": r.appointment_at, "handed_over_at": r.handed_over_at,
        "received_by": r.received_by, "state": r.state, "note": r.refusal_reason or "",
    } for r in rows]

