"""Agencies (cơ quan) with electronic IDs, arranged as a tree: city → departments; city → wards."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from libs.identity import AgencyEid

AgencyKind = Literal["city", "department", "ward"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Agency(BaseModel):
    """`kind`: city = province / centrally-run city People's Committee (UBND tỉnh/thành phố);
    department = a city department or one of its units (sở, văn phòng); ward = ward / commune (phường, xã)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    eid: AgencyEid
    name: Text
    short_name: Text
    kind: AgencyKind
    parent: AgencyEid | None = None

    @model_validator(mode="after")
    def _parent_rules(self) -> Agency:
        if self.kind != "city" and self.parent is None:
            raise ValueError(f"parent: a {self.kind} must name its parent agency")
        if self.parent == self.eid:
            raise ValueError("parent: an agency cannot be its own parent")
        return self
