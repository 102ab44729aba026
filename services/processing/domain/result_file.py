"""The signed result file (kết quả điện tử, docs/domain.md §4.4): the competent agency attaches it at intake,
the case records it, and a decision is electronic exactly when one is attached."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.processing.domain.errors import NotAllowed
from services.processing.domain.states import CaseState

# Open and not decided yet: a result may be attached (again) until the case reaches state 9.
ATTACHABLE = frozenset({
    CaseState.RECEIVED, CaseState.PROCESSING, CaseState.SUPPLEMENT_REQUESTED, CaseState.PAYMENT_REQUESTED,
})


class ResultFileConflict(NotAllowed):
    """The decision's `electronic` disagrees with the case's attached result (the API answers 409)."""


@dataclass(frozen=True)
class AttachedResult:
    """The attached result: its manifest entry as intake's event gave it (JSON), who attached it, where, when."""

    document: Mapping[str, Any]  # a DocumentManifest as JSON: document_id, kind result, sha256, size, …
    attached_by: str
    agency: str
    attached_at: datetime

    @property
    def document_id(self) -> str:
        return str(self.document["document_id"])

    @property
    def sha256(self) -> str | None:
        value = self.document.get("sha256")
        return str(value) if value is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {"document": dict(self.document), "attached_by": self.attached_by, "agency": self.agency,
                "attached_at": self.attached_at.isoformat()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttachedResult:
        return cls(dict(data["document"]), data["attached_by"], data["agency"],
                   datetime.fromisoformat(data["attached_at"]))


def decision_manifest(
    attached: AttachedResult | None, code: str, action: str, electronic: bool | None
) -> tuple[Mapping[str, Any], ...]:
    """The result file a decision carries: electronic exactly when one is attached. `electronic` None follows
    the attachment; True without one, or False with one, is refused rather than silently overridden."""
    if attached is None and electronic:
        raise ResultFileConflict(
            f"cannot {action} as an electronic result: attach the signed result file first "
            f"(intake: POST /api/v1/dossiers/{code}/result)")
    if attached is not None and electronic is False:
        raise ResultFileConflict(
            f"cannot {action} as a paper result: the signed result file {attached.document_id} is attached, "
            "so the result is electronic; send electronic true or leave it out")
    return (attached.document,) if attached is not None else ()
