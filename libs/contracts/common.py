"""Value objects shared by several events."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


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


class Digitisation(IntEnum):
    """Digitisation state of one document (DOMAIN.md §1.5, docs/domain.md §4.4): production codes, adopted."""

    NOT_DIGITISED = 0  # only the paper exists
    DIGITISED = 1  # scanned at the desk for this dossier
    REUSED_PAPER = 2  # taken, by reference, from another dossier's digitised papers
    REUSED_RESULT = 3  # taken, by reference, from another dossier's result


class DocumentKind(StrEnum):
    """What a document of a dossier is: one of the citizen's papers, or the result the competent agency issued."""

    PAPER = "paper"  # thành phần hồ sơ: an item of the procedure's checklist
    RESULT = "result"  # kết quả giải quyết: signed by the competent agency (docs/domain.md §4.4)


RESULT_ITEM = 0  # a result is no checklist item: it takes item 0


class DocumentManifest(_Frozen):
    """One document of a dossier as events describe it: where to find it and what it is, never its bytes and never
    its file name (the bytes are read from intake, after intake's own check of who may read them)."""

    document_id: UUID
    kind: DocumentKind = Field(default=DocumentKind.PAPER, description="paper: a checklist item; result: the "
                                                                         "signed result")
    checklist_item: int = Field(ge=0, description="1-based position in the procedure version's checklist; "
                                                  "0 for a result")
    item_name: str = Field(default="", description="that checklist item's name, as the catalogue had it")
    sha256: str | None = Field(default=None, description="SHA-256 of the bytes, 64 lowercase hex digits")
    size: int | None = Field(default=None, ge=0, description="bytes")
    media_type: str | None = Field(default=None, description="application/pdf, image/jpeg or image/png: "
                                                             "decided from the bytes")
    pages: int | None = Field(default=None, ge=1, description="unknown (null) for a PDF for now")
    digitisation: Digitisation
    reused_from: UUID | None = Field(default=None, description="the document of another dossier it reuses")
    uploaded_at: datetime | None = None
