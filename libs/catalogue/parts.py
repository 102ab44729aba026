"""Building blocks of a procedure version: time limit, internal step plan, fees."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
TimeUnit = Literal["working_days", "days", "hours", "same_day"]
StepOwner = Literal["receiving", "competent"]
StepRole = Literal["desk_officer", "specialist", "department_head"]
SHARE_TOLERANCE = 1e-6
_CODE = re.compile(r"\d\.\d{6}")


def _procedure_code(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"procedure code must be quoted, e.g. '1.001193' (YAML read {value} as a number)")
    if not isinstance(value, str) or not _CODE.fullmatch(value.strip()):
        raise ValueError(f"procedure code must be a digit, a dot and six digits (1.001193), got {value!r}")
    return value.strip()


ProcedureCode = Annotated[str, BeforeValidator(_procedure_code)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeLimit(_Frozen):
    """Statutory processing time (thời hạn giải quyết). `same_day` (trong ngày) has value 0."""

    value: float = Field(ge=0)
    unit: TimeUnit

    @model_validator(mode="after")
    def _value_fits_unit(self) -> TimeLimit:
        if self.unit == "same_day" and self.value != 0:
            raise ValueError("value: must be 0 when unit is same_day")
        if self.unit != "same_day" and self.value <= 0:
            raise ValueError(f"value: must be above 0 when unit is {self.unit}")
        return self


class Step(_Frozen):
    """One step of the internal procedure (quy trình nội bộ); `share` = fraction of the time limit.
    A final return step may have share 0 (không tính thời gian)."""

    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    name: Text
    owner: StepOwner
    role: StepRole
    share: float = Field(ge=0, le=1)


class Fee(_Frozen):
    """A fee or charge (phí, lệ phí) per unit, e.g. 2 000 VND per page."""

    name: Text
    amount_vnd: int = Field(ge=0)
    unit: Text
    note: str = ""


def check_step_plan(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """Shares sum to 1.0, codes are unique, only the last step may take no time."""
    if not steps:
        raise ValueError("a procedure needs at least one step")
    codes = [step.code for step in steps]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise ValueError(f"step codes must be unique, repeated: {', '.join(duplicates)}")
    total = math.fsum(step.share for step in steps)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ValueError(f"step shares must sum to 1.0, got {total:g}")
    idle = [step.code for step in steps[:-1] if step.share == 0]
    if idle:
        raise ValueError(f"only the last step may have share 0, not: {', '.join(idle)}")
    return steps
