"""Processing domain: the case state machine, step deadlines, sweeps and the control slip. Pure code."""

from services.processing.domain.authz import Permission, can_act
from services.processing.domain.case import Case
from services.processing.domain.errors import DomainError, IllegalTransition, NotAllowed, PlanError
from services.processing.domain.events import EVENT_TYPES, CaseEvent
from services.processing.domain.plan import ProcedurePlan, SupplementPolicy
from services.processing.domain.result_file import AttachedResult, ResultFileConflict
from services.processing.domain.slip import SlipRow, control_slip
from services.processing.domain.states import TRANSITIONS, CaseState, SubState
from services.processing.domain.steps import Handoff, Step, Timeliness
from services.processing.domain.watch import StepView, Watched, sweep

__all__ = [
    "EVENT_TYPES",
    "TRANSITIONS",
    "AttachedResult",
    "Case",
    "CaseEvent",
    "CaseState",
    "DomainError",
    "Handoff",
    "IllegalTransition",
    "NotAllowed",
    "Permission",
    "PlanError",
    "ProcedurePlan",
    "ResultFileConflict",
    "SlipRow",
    "Step",
    "StepView",
    "SubState",
    "SupplementPolicy",
    "Timeliness",
    "Watched",
    "can_act",
    "control_slip",
    "sweep",
]
