"""One fact row per dossier (hồ sơ): the flat record every report is computed from.

The reporting service fills these from events; everything in this package reads them and nothing else.
All datetimes are timezone-aware (stored in UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Level = Literal["ward", "city"]  # cấp xã | cấp tỉnh
Channel = Literal["in_person", "online", "post"]  # trực tiếp | trực tuyến | dịch vụ bưu chính
OnlineLevel = Literal["full", "partial", "none"]  # toàn trình | một phần | không
Outcome = Literal["approved", "rejected", "withdrawn", "stopped"]  # duyệt | từ chối | rút | dừng

LEVELS: tuple[str, ...] = ("city", "ward")  # report order: higher level first
CHANNELS = frozenset({"in_person", "online", "post"})
ONLINE_LEVELS = frozenset({"full", "partial", "none"})
OUTCOMES = frozenset({"approved", "rejected", "withdrawn", "stopped"})
RESULT_OUTCOMES = frozenset({"approved", "rejected"})  # a result (kết quả) was produced
CLOSING_OUTCOMES = frozenset({"withdrawn", "stopped"})  # closed without a result

SupplementWait = tuple[datetime, datetime]  # (requested_at, completed_at) of a finished wait


@dataclass(frozen=True, slots=True, kw_only=True)
class FactRow:
    """Everything the reports need to know about one dossier.

    `appointment_at` is the ORIGINAL appointment (ngày hẹn trả), i.e. without any apology extension; a
    supplement pause or restart that moves it is part of it, and `earlier_appointments` (optional) keeps
    the values it replaced as (appointment, replaced_at), oldest first, so a report frozen at an earlier
    moment judges against the appointment known then. `extended_appointment_at` is the new date
    given with an apology letter (thư xin lỗi), if any. `resolved_at` is when the result was ready
    (approved / rejected) or the dossier was withdrawn / stopped; `outcome` says which.
    `waiting_supplement_since` is set while the dossier waits for a supplement (chờ bổ sung) right now;
    `supplement_waits` lists finished waits, so a report frozen at an earlier moment can still tell
    whether the dossier was waiting then (optional: without it only the current wait is known).
    `online_payment` is None when the procedure has no fee; `rating` is 1–5 or None.
    `documents_scanned` counts the papers the receipt and supplement manifests announce in digitisation state 1, 2
    or 3, `documents_reused` those in state 2 or 3, `items_scanned` the distinct checklist items they cover
    (docs/domain.md §3.3, §4.4). `electronic_result`: the result was ready as a signed file (a result manifest).
    `e_certified_copies_done` is no longer derived (certification facts count e-certified copies): kept at 0.
    """

    dossier_id: str
    code: str  # mã hồ sơ
    receiving_agency: str  # e-ID of the desk that received it (nơi tiếp nhận)
    competent_agency: str  # e-ID of the agency that settles it (cơ quan có thẩm quyền)
    procedure_code: str
    procedure_name: str
    field: str  # lĩnh vực
    level: Level
    channel: Channel
    online_level: OnlineLevel
    received_at: datetime
    appointment_at: datetime
    extended_appointment_at: datetime | None = None
    resolved_at: datetime | None = None
    outcome: Outcome | None = None
    returned_at: datetime | None = None
    supplement_requested: int = 0
    documents_total: int = 0
    documents_digitised: int = 0
    e_certified_copies_requested: int = 0
    e_certified_copies_done: int = 0
    documents_scanned: int = 0
    documents_reused: int = 0
    items_scanned: int = 0
    electronic_result: bool = False
    online_payment: bool | None = None
    rating: int | None = None
    refused_at_desk: bool = False
    waiting_supplement_since: datetime | None = None
    supplement_waits: tuple[SupplementWait, ...] = ()
    earlier_appointments: tuple[tuple[datetime, datetime], ...] = ()

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValueError(f"invalid fact row {self.dossier_id}: " + "; ".join(problems))

    @property
    def with_papers(self) -> bool:
        """Whether the dossier is counted for digitisation: it lists papers, announces scans, or came online."""
        return self.documents_total > 0 or self.documents_scanned > 0 or self.channel == "online"

    @property
    def digitised(self) -> bool:
        """Digitised dossier (docs/domain.md §3.3): at least one scanned paper and, at the desk or by post, every
        listed paper covered — as many distinct checklist items scanned as papers listed; online (no scanning at
        receipt, §4.4), any document in its manifest."""
        if self.documents_scanned == 0:
            return False
        return self.channel == "online" or self.items_scanned >= self.documents_total

    def waiting_supplement_at(self, moment: datetime) -> bool:
        """True when the dossier was waiting for a supplement at `moment`."""
        since = self.waiting_supplement_since
        if since is not None and since <= moment:
            return True
        return any(start <= moment < end for start, end in self.supplement_waits)

    def appointment_known_at(self, moment: datetime) -> datetime:
        """The appointment (without apology extensions) as it stood at `moment`."""
        for appointment, replaced_at in self.earlier_appointments:
            if replaced_at > moment:
                return appointment
        return self.appointment_at


def _problems(f: FactRow) -> list[str]:
    out = [*_enum_problems(f), *_time_problems(f), *_count_problems(f)]
    if (f.resolved_at is None) != (f.outcome is None):
        out.append("resolved_at and outcome must be set together")
    if f.rating is not None and not 1 <= f.rating <= 5:
        out.append("rating must be 1..5")
    return out


def _enum_problems(f: FactRow) -> list[str]:
    out = []
    if f.level not in LEVELS:
        out.append(f"level {f.level!r}")
    if f.channel not in CHANNELS:
        out.append(f"channel {f.channel!r}")
    if f.online_level not in ONLINE_LEVELS:
        out.append(f"online_level {f.online_level!r}")
    if f.outcome is not None and f.outcome not in OUTCOMES:
        out.append(f"outcome {f.outcome!r}")
    return out


def _time_problems(f: FactRow) -> list[str]:
    moments = [f.received_at, f.appointment_at, f.extended_appointment_at, f.resolved_at, f.returned_at,
               f.waiting_supplement_since, *(m for wait in f.supplement_waits for m in wait),
               *(m for pair in f.earlier_appointments for m in pair)]
    if any(m is not None and m.utcoffset() is None for m in moments):
        return ["datetimes must be timezone-aware"]
    replaced = [replaced_at for _, replaced_at in f.earlier_appointments]
    if replaced != sorted(replaced):
        return ["earlier_appointments must be ordered by replaced_at"]
    return []


def _count_problems(f: FactRow) -> list[str]:
    out = []
    counts = (f.supplement_requested, f.documents_total, f.documents_digitised,
              f.e_certified_copies_requested, f.e_certified_copies_done, f.documents_scanned, f.documents_reused,
              f.items_scanned)
    if min(counts) < 0:
        out.append("counts must not be negative")
    if f.documents_digitised > f.documents_total:
        out.append("documents_digitised > documents_total")
    if f.e_certified_copies_done > f.e_certified_copies_requested:
        out.append("e_certified_copies_done > e_certified_copies_requested")
    if f.documents_reused > f.documents_scanned or f.items_scanned > f.documents_scanned:
        out.append("documents_reused and items_scanned must not exceed documents_scanned")
    return out
