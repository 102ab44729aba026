"""The process-control slip (Phiếu kiểm soát quá trình giải quyết hồ sơ, Form 05/2018 · 06/2025)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.processing.domain.events import CaseEvent
from services.processing.domain.steps import Timeliness


@dataclass(frozen=True)
class SlipRow:
    """One hand-over: who gave the dossier to whom, when, and how the step stood against its deadline."""

    step_code: str | None
    step_name: str | None
    giver: str
    giver_agency: str
    receiver: str | None
    receiver_agency: str | None
    handed_over_at: datetime
    step_deadline: datetime | None
    result: Timeliness | None  # trước hạn / đúng hạn / quá hạn
    note: str

    @property
    def result_label(self) -> str:
        return self.result.label if self.result else ""


def control_slip(events: Iterable[CaseEvent]) -> list[SlipRow]:
    """Rows in time order from the events that hand the dossier over (`handover=True`)."""
    rows = [_row(e) for e in events if e.handover]
    return sorted(rows, key=lambda row: row.handed_over_at)


def _row(event: CaseEvent) -> SlipRow:
    return SlipRow(
        step_code=event.step_code,
        step_name=event.step_name,
        giver=event.actor,
        giver_agency=event.agency,
        receiver=event.receiver,
        receiver_agency=event.receiver_agency,
        handed_over_at=event.at,
        step_deadline=event.step_deadline,
        result=event.timeliness,
        note=event.note,
    )
