"""Value objects shared by several events."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Channel(StrEnum):
    """How the dossier reached the desk (kênh tiếp nhận)."""

    IN_PERSON = "in_person"  # trực tiếp
    ONLINE = "online"  # trực tuyến
    POST = "post"  # dịch vụ bưu chính công ích


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TimeLimitSnapshot(_Frozen):
    value: float
    unit: str  # working_days | days | hours | same_day


class StepSnapshot(_Frozen):
    code: str
    name: str
    owner: str  # receiving | competent
    role: str
    share: float


class ProcedureSnapshot(_Frozen):
    """The procedure version in force on the receipt day, pinned into the dossier."""

    code: str
    version: int
    name: str
    field: str  # lĩnh vực
    level: str  # ward | city
    online_level: str  # full | partial | none
    time_limit: TimeLimitSnapshot
    cutoff_15h: bool
    supplement_policy: str  # pause | restart
    competent_agency: str
    steps: list[StepSnapshot]


class Contact(_Frozen):
    """Only what notifications needs to reach the citizen; never the full personal ID."""

    full_name: str
    phone: str | None = None
    email: str | None = None


class DocumentSummary(_Frozen):
    total: int = 0
    digitised: int = 0
    e_certified_requested: int = 0
