"""Procedures (thủ tục hành chính, TTHC) with dated versions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from libs.catalogue.agency import AgencyKind
from libs.catalogue.parts import Fee, ProcedureCode, Step, Text, TimeLimit, check_step_plan
from libs.identity import validate_agency_eid

RECEIVING_WARD = "receiving_ward"
Level = Literal["ward", "city"]
OnlineLevel = Literal["full", "partial", "none"]  # toàn trình / một phần / none
SupplementPolicy = Literal["pause", "restart"]
SNAPSHOT_FIELDS = {  # what a dossier.received event pins (plus receiving/competent agency and steps)
    "code", "version", "effective_from", "name", "field", "level", "online_level", "time_limit",
    "cutoff_15h", "supplement_policy", "e_certified_copy_eligible", "financial_obligation",
}  # fmt: skip


def _competent(value: str) -> str:
    return value if value == RECEIVING_WARD else validate_agency_eid(value)


class ProcedureVersion(BaseModel):
    """The rules of one procedure in force from `effective_from` to `effective_to` (both inclusive)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: ProcedureCode
    version: int = Field(ge=1)
    effective_from: date
    effective_to: date | None = None
    name: Text
    field: Text  # lĩnh vực, e.g. Hộ tịch, Chứng thực, Đất đai
    level: Level
    online_level: OnlineLevel
    time_limit: TimeLimit
    cutoff_15h: bool = False
    supplement_policy: SupplementPolicy
    competent: Annotated[str, AfterValidator(_competent)]  # "receiving_ward" or a department's e-ID
    received_at: tuple[AgencyKind, ...] = ("ward",)
    steps: tuple[Step, ...]
    fees: tuple[Fee, ...] = ()
    documents: tuple[Text, ...] = ()
    e_certified_copy_eligible: bool = False
    financial_obligation: bool = False
    note: str = ""

    @field_validator("steps")
    @classmethod
    def _steps(cls, steps: tuple[Step, ...]) -> tuple[Step, ...]:
        return check_step_plan(steps)

    @field_validator("received_at")
    @classmethod
    def _received_at(cls, kinds: tuple[AgencyKind, ...]) -> tuple[AgencyKind, ...]:
        if not kinds or len(set(kinds)) != len(kinds):
            raise ValueError("received_at must list one or more distinct agency kinds")
        return kinds

    @model_validator(mode="after")
    def _consistent(self) -> ProcedureVersion:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(
                f"effective_to: {self.effective_to} is before effective_from {self.effective_from}"
            )
        resolved_by_ward = self.competent == RECEIVING_WARD
        if resolved_by_ward != (self.level == "ward"):
            raise ValueError(
                f"competent: level {self.level!r} does not match competent {self.competent!r}: "
                f"level 'ward' goes with competent '{RECEIVING_WARD}', level 'city' with a department e-ID"
            )
        if resolved_by_ward and self.received_at != ("ward",):
            raise ValueError("received_at: must be [ward] when the receiving ward resolves the procedure")
        return self

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    def competent_eid(self, receiving_agency: str) -> str:
        """The agency that resolves a dossier received at `receiving_agency`."""
        return receiving_agency if self.competent == RECEIVING_WARD else self.competent

    def snapshot(self, receiving_agency: str) -> dict[str, Any]:
        """Plain JSON-able dict of this version for a `dossier.received` event."""
        competent = self.competent_eid(receiving_agency)
        owners = {"receiving": receiving_agency, "competent": competent}
        steps = [{**step.model_dump(mode="json"), "agency": owners[step.owner]} for step in self.steps]
        data = self.model_dump(mode="json", include=SNAPSHOT_FIELDS)
        return {**data, "receiving_agency": receiving_agency, "competent_agency": competent, "steps": steps}


class Procedure(BaseModel):
    """A procedure by national code (mã TTHC, e.g. 1.001193); versions listed oldest first, no overlap."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: ProcedureCode
    versions: tuple[ProcedureVersion, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _give_versions_the_code(cls, data: Any) -> Any:
        if isinstance(data, dict) and "code" in data and isinstance(data.get("versions"), list):
            code = str(data["code"])  # a bad code is reported once, on the procedure itself
            versions = [{"code": code, **v} if isinstance(v, dict) else v for v in data["versions"]]
            return {**data, "versions": versions}
        return data

    @model_validator(mode="after")
    def _versions_in_order(self) -> Procedure:
        for version in self.versions:
            if version.code != self.code:
                raise ValueError(
                    f"versions: version {version.version} has code {version.code}, not {self.code}"
                )
        for earlier, later in zip(self.versions, self.versions[1:], strict=False):
            _check_sequence(earlier, later)
        return self

    def version_on(self, day: date) -> ProcedureVersion | None:
        return next((v for v in self.versions if v.in_force(day)), None)


def _check_sequence(earlier: ProcedureVersion, later: ProcedureVersion) -> None:
    if later.version <= earlier.version:
        raise ValueError(f"versions: version {later.version} must be numbered above {earlier.version}")
    if earlier.effective_to is None or earlier.effective_to >= later.effective_from:
        raise ValueError(
            f"versions: version {earlier.version} (effective_to {earlier.effective_to}) overlaps version "
            f"{later.version} (effective_from {later.effective_from}); set effective_to before that day"
        )
