"""Which case actions to offer an officer now, read from processing's case view (the rules of its authz module
as seen from outside). Processing still decides: a refused action comes back with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from libs.auth import Officer

WORKFLOW_ROLES = {"specialist", "department_head"}


@dataclass(frozen=True)
class Offer:
    action: str
    label: str
    fields: tuple[str, ...] = ()  # what the form asks: note, reason, items, officer, step_code, new_due, electronic


def offers(case: dict[str, Any], officer: Officer) -> list[Offer]:
    handoffs = case.get("handoffs") or []
    pending = next((h for h in reversed(handoffs) if h.get("pending")), None)
    if case.get("closed_at"):
        return []
    if pending is not None:
        mine = pending["to_agency"] == officer.agency and officer.has("desk_officer", *WORKFLOW_ROLES)
        return [Offer("acknowledge", "Xác nhận đã nhận hồ sơ")] if mine else []
    if case["holder_agency"] != officer.agency:
        return []
    return _holder_offers(case, officer)


def _holder_offers(case: dict[str, Any], officer: Officer) -> list[Offer]:
    state, steps = case["state"], case.get("steps") or []
    active = next((s for s in steps if s["status"] == "active"), None)
    if state == 9:
        away = case["holder_agency"] != case["receiving_agency"]
        return [Offer("return", "Chuyển kết quả về nơi tiếp nhận", ("note",))] if away and _works(officer) else []
    if state not in (2, 4) or active is None or not officer.has(*WORKFLOW_ROLES, active["role"]):
        return []
    later = steps[steps.index(active) + 1:]
    following = later[0] if later else None
    out: list[Offer] = []
    if following is not None and following["agency"] != case["holder_agency"]:
        out.append(Offer("transfer", "Chuyển xử lý liên thông", ("note",)))
    elif following is not None:
        out.append(Offer("complete-step", "Hoàn thành bước, chuyển bước sau", ("note",)))
    if officer.has("department_head") and state == 4:
        out.append(Offer("assign", "Phân công", ("officer", "step_code")))
    if _deciding(active, later) and officer.has("department_head"):
        # "electronic": the result is the signed file attached to the dossier (issue 17; processing checks it).
        out += [Offer("approve", "Phê duyệt", ("note", "electronic")),
                Offer("result-ready", "Có kết quả (không cần phê duyệt)", ("note", "electronic")),
                Offer("reject", "Từ chối giải quyết", ("reason",))]
    out.append(Offer("request-supplement", "Yêu cầu bổ sung hồ sơ", ("items", "reason")))
    if not case.get("extended"):
        out.append(Offer("extend-deadline", "Gia hạn (xin lỗi, hẹn lại — Mẫu 04)", ("reason", "new_due")))
    out.append(Offer("stop", "Dừng xử lý", ("reason",)))
    return out


def _works(officer: Officer) -> bool:
    return officer.has(*WORKFLOW_ROLES)


def _deciding(active: dict[str, Any], later: list[dict[str, Any]]) -> bool:
    """The decision belongs to the competent agency's last step before issuing (or its only step left)."""
    competent_left = [s for s in later if s["owner"] == "competent"]
    return active["owner"] == "competent" and len(competent_left) <= 1
