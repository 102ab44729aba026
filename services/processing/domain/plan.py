"""The procedure snapshot pinned into a case (quy trình nội bộ of the version in force at receipt)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from libs.calendar import LimitUnit, TimeLimit
from services.processing.domain.errors import PlanError

SHARE_TOLERANCE = 1e-6


class Owner(StrEnum):
    RECEIVING = "receiving"  # the desk that received the dossier (Bộ phận Một cửa)
    COMPETENT = "competent"  # the agency that resolves it (cơ quan có thẩm quyền)


class SupplementPolicy(StrEnum):
    PAUSE = "pause"  # appointment moves back by the working hours spent waiting
    RESTART = "restart"  # counting starts again from the supplement hand-in


@dataclass(frozen=True)
class StepPlan:
    code: str
    name: str
    owner: Owner
    role: str  # desk_officer | specialist | department_head
    share: float  # fraction of the time limit; a final return step may have 0
    agency: str | None = None  # resolved e-ID when the snapshot carries it


@dataclass(frozen=True)
class ProcedurePlan:
    code: str
    time_limit: TimeLimit
    cutoff: bool  # the 15:00 cut-off, only where it applies to the limit (never to calendar days)
    supplement_policy: SupplementPolicy
    steps: tuple[StepPlan, ...]
    competent_agency: str | None
    raw: Mapping[str, Any]  # the snapshot as received, kept verbatim for storage

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any]) -> ProcedurePlan:
        """Read the `procedure` snapshot of `dossier.received` (libs.catalogue ProcedureVersion.snapshot)."""
        try:
            limit = _time_limit(snapshot["time_limit"])
            return cls(
                code=str(snapshot["code"]),
                time_limit=limit,
                cutoff=limit.cutoff_applies(bool(snapshot.get("cutoff_15h", False))),
                supplement_policy=SupplementPolicy(snapshot.get("supplement_policy", "pause")),
                steps=_steps(snapshot.get("steps") or []),
                competent_agency=snapshot.get("competent_agency"),
                raw=dict(snapshot),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise PlanError(f"procedure snapshot is not usable: {exc}") from exc


def _time_limit(data: Mapping[str, Any]) -> TimeLimit:
    return TimeLimit(float(data["value"]), LimitUnit(data["unit"]))


def _steps(items: list[Mapping[str, Any]]) -> tuple[StepPlan, ...]:
    if not items:
        raise ValueError("the step plan is empty")
    steps = tuple(_step(item) for item in items)
    if len({s.code for s in steps}) != len(steps):
        raise ValueError("step codes must be unique")
    if any(not 0 <= s.share <= 1 for s in steps):
        raise ValueError("each step share must lie between 0 and 1")
    if math.fsum(s.share for s in steps) > 1 + SHARE_TOLERANCE:
        raise ValueError("step shares add up to more than the whole time limit")
    return steps


def _step(item: Mapping[str, Any]) -> StepPlan:
    return StepPlan(
        code=str(item["code"]),
        name=str(item.get("name", item["code"])),
        owner=Owner(item["owner"]),
        role=str(item["role"]),
        share=float(item["share"]),
        agency=item.get("agency"),
    )
