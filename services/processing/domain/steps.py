"""Steps of a running case with their own deadlines, and inter-agency hand-offs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Timeliness(StrEnum):
    """Result column of the process-control slip and of Form 06 (trước / đúng / quá hạn)."""

    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"

    @property
    def label(self) -> str:
        return {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}[self.value]


def timeliness(at: datetime, deadline: datetime | None) -> Timeliness | None:
    """Late after the deadline; on time on the deadline's own day; early on an earlier day."""
    if deadline is None:
        return None
    if at > deadline:
        return Timeliness.LATE
    # Same local day as the deadline counts as "on time", like the Form 06 practice.
    if at.astimezone(deadline.tzinfo).date() == deadline.date():
        return Timeliness.ON_TIME
    return Timeliness.EARLY


@dataclass
class Step:
    code: str
    name: str
    owner: str  # receiving | competent
    role: str
    share: float
    agency: str
    started_at: datetime | None = None
    deadline: datetime | None = None  # NgayHenTraCaNhan: the step's own deadline
    completed_at: datetime | None = None
    completed_by: str | None = None
    assignee: str | None = None
    skipped: bool = False

    @property
    def is_active(self) -> bool:
        return self.started_at is not None and self.completed_at is None and not self.skipped


@dataclass
class Handoff:
    """The dossier sent to another agency, which must acknowledge it (Decree 63/2024: ≤ 2 working hours)."""

    kind: str  # transfer (ward → city) | return (result back to the receiving desk)
    from_agency: str
    to_agency: str
    sent_at: datetime
    ack_due_at: datetime
    sent_by: str
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None

    @property
    def pending(self) -> bool:
        return self.acknowledged_at is None
