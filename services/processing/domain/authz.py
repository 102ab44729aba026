"""Who may do what on a case (pure: the caller passes the officer's agency and roles from the token)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.processing.domain.case_base import CaseData

DESK_ROLE = "desk_officer"
WORKFLOW_ROLES = frozenset({"specialist", "department_head"})
OFFICER_ROLES = WORKFLOW_ROLES | {DESK_ROLE}

# Done at the receiving desk (Bộ phận Một cửa) on behalf of the applicant.
DESK_ACTIONS = frozenset({"supplement_received", "payment_received", "withdraw", "result_handed_over"})
# Done by whoever holds the case's current step.
WORKFLOW_ACTIONS = frozenset({
    "assign", "complete_step", "transfer", "return_result", "request_supplement", "request_payment",
    "extend", "stop", "approve", "reject", "mark_result_ready",
})
ACKNOWLEDGE = "acknowledge_transfer"


@dataclass(frozen=True)
class Permission:
    """Truthy when allowed; otherwise `reason` says why (for a 403 body)."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Permission(True)


def can_act(case: CaseData, action: str, officer_agency: str, roles: Iterable[str]) -> Permission:
    held = frozenset(roles)
    if action in DESK_ACTIONS:
        return _desk(case, officer_agency, held)
    if action in WORKFLOW_ACTIONS:
        return _workflow(case, officer_agency, held)
    if action == ACKNOWLEDGE:
        return _acknowledge(case, officer_agency, held)
    return Permission(False, f"unknown action {action!r}")


def _desk(case: CaseData, agency: str, roles: frozenset[str]) -> Permission:
    if agency != case.receiving_agency:
        return Permission(False, f"only the receiving desk {case.receiving_agency} may do this")
    if DESK_ROLE not in roles:
        return Permission(False, f"needs the role {DESK_ROLE}")
    return ALLOWED


def _workflow(case: CaseData, agency: str, roles: frozenset[str]) -> Permission:
    if agency != case.holder_agency:
        return Permission(False, f"the case is held by {case.holder_agency}, not by {agency}")
    step = case.active_step or case.current_step
    # The role named for the step may act on it too (a desk officer completes the receipt step).
    needed = WORKFLOW_ROLES | ({step.role} if step else set())
    if not roles & needed:
        return Permission(False, f"needs one of the roles {', '.join(sorted(needed))}")
    return ALLOWED


def _acknowledge(case: CaseData, agency: str, roles: frozenset[str]) -> Permission:
    handoff = case.pending_handoff
    if handoff is None:
        return Permission(False, "no hand-over is waiting for acknowledgement")
    if agency != handoff.to_agency:
        return Permission(False, f"only {handoff.to_agency} may acknowledge this hand-over")
    if not roles & OFFICER_ROLES:
        return Permission(False, f"needs one of the roles {', '.join(sorted(OFFICER_ROLES))}")
    return ALLOWED
