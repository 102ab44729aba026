"""Who may do what on a case (pure: the caller passes the officer's id, agency and roles from the token).

Separation of duties: the officer who verified a dossier (completed a verification step — thẩm định, a step of
the competent agency's `specialist` role) may not also sign it as head: decide it (approve, reject, result
ready) or pass on a step of the `department_head` role. Who completed each step is the case's own record
(`Step.completed_by`), so the rule holds across officers' sessions, admins included."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.processing.domain.case_base import CaseData
from services.processing.domain.plan import Owner

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
VERIFYING_ROLE = "specialist"  # the role of a verification step (thẩm định) in the step plans
SIGNING_ROLE = "department_head"  # the role of a head's step (trình ký, ký duyệt)
DECISIONS = frozenset({"approve", "reject", "mark_result_ready"})  # signing the result, on any step
HANDING_ON = frozenset({"complete_step", "transfer"})  # signing off the step in progress


@dataclass(frozen=True)
class Permission:
    """Truthy when allowed; otherwise `reason` says why (for a 403 body)."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Permission(True)


def can_act(
    case: CaseData, action: str, officer_agency: str, roles: Iterable[str], *, officer: str
) -> Permission:
    """`officer` is the acting officer's id (the token's `sub`)."""
    held = frozenset(roles)
    if action in DESK_ACTIONS:
        return _desk(case, officer_agency, held)
    if action in WORKFLOW_ACTIONS:
        allowed = _workflow(case, officer_agency, held)
        return _separated(case, action, officer) if allowed else allowed
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


def verifiers(case: CaseData) -> frozenset[str]:
    """Who verified the dossier: the officers who completed one of its verification steps."""
    return frozenset(
        step.completed_by for step in case.steps
        if step.completed_by and step.owner == Owner.COMPETENT and step.role == VERIFYING_ROLE
    )


def signs(case: CaseData, action: str) -> bool:
    """Whether `action` signs the dossier as head: a decision, or passing on a head's step."""
    if action in DECISIONS:
        return True
    step = case.active_step
    return action in HANDING_ON and step is not None and step.role == SIGNING_ROLE


def _separated(case: CaseData, action: str, officer: str) -> Permission:
    if not signs(case, action):
        return ALLOWED
    step = case.active_step
    if action in DECISIONS and step is not None and step.owner == Owner.COMPETENT and step.role == VERIFYING_ROLE:
        return Permission(False, f"cannot decide on the verification step '{step.code}': whoever verifies a dossier "
                                 "cannot also sign it; complete the step, then a department_head decides")
    if officer in verifiers(case):
        return Permission(False, "the officer who verified this dossier cannot also sign it; another officer "
                                 "of the role department_head must")
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
