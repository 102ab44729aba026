"""Shared builders for the processing domain tests (kept out of conftest so tests can import them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from uuid import uuid4
from zoneinfo import ZoneInfo

from libs.calendar import CalendarConfig, WorkCalendar, load_calendar
from libs.calendar.loader import DEFAULT_PATH
from libs.contracts.common import Digitisation, DocumentKind, DocumentManifest
from services.processing.domain import Case, CaseEvent

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WARD = "000.00.12.H55"
CITY = "000.03.00.H55"  # a city department (Sở)
OTHER_WARD = "000.00.13.H55"


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A moment in March 2026 (no holidays; 16/03 is a Monday), Vietnam time."""
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def calendar() -> WorkCalendar:
    # The real calendar from deploy/config when present; its defaults are the same office hours.
    return load_calendar() if DEFAULT_PATH.exists() else WorkCalendar(CalendarConfig())


def city_snapshot(policy: str = "pause", days: float = 5) -> dict[str, Any]:
    """A city-level procedure received at the ward: 5 working days split 0.1/0.1/0.5/0.3 + return."""
    return {
        "code": "1.004227", "version": 1, "name": "Cấp giấy phép", "field": "Xây dựng", "level": "city",
        "online_level": "partial", "time_limit": {"value": days, "unit": "working_days"},
        "cutoff_15h": False, "supplement_policy": policy, "receiving_agency": WARD, "competent_agency": CITY,
        "steps": [
            {"code": "receive", "name": "Tiếp nhận", "owner": "receiving", "role": "desk_officer", "share": 0.1},
            {"code": "assign", "name": "Phân công", "owner": "competent", "role": "department_head",
             "share": 0.1},
            {"code": "review", "name": "Thẩm định", "owner": "competent", "role": "specialist", "share": 0.5},
            {"code": "sign", "name": "Ký duyệt", "owner": "competent", "role": "department_head", "share": 0.3},
            {"code": "return", "name": "Trả kết quả", "owner": "receiving", "role": "desk_officer", "share": 0},
        ],
    }


def ward_snapshot(policy: str = "pause") -> dict[str, Any]:
    """A ward-level procedure: 3 working days split 0.25/0.5/0.25 + return."""
    return {
        "code": "1.001193", "version": 1, "name": "Đăng ký khai sinh", "field": "Hộ tịch", "level": "ward",
        "online_level": "full", "time_limit": {"value": 3, "unit": "working_days"}, "cutoff_15h": True,
        "supplement_policy": policy, "receiving_agency": WARD, "competent_agency": WARD,
        "steps": [
            {"code": "receive", "name": "Tiếp nhận", "owner": "receiving", "role": "desk_officer",
             "share": 0.25},
            {"code": "process", "name": "Xử lý", "owner": "competent", "role": "specialist", "share": 0.5},
            {"code": "sign", "name": "Ký", "owner": "competent", "role": "department_head", "share": 0.25},
            {"code": "return", "name": "Trả kết quả", "owner": "receiving", "role": "desk_officer", "share": 0},
        ],
    }


def open_case(
    snapshot: dict[str, Any] | None = None, received: datetime | None = None, cal: WorkCalendar | None = None
) -> tuple[Case, list[CaseEvent]]:
    received = received or at(16, 9)
    return Case.open(
        dossier_id="7d1c0f5e-0000-4000-8000-000000000001", code=f"{WARD}-260316-0001",
        procedure=snapshot or city_snapshot(), receiving_agency=WARD, received_at=received, now=received,
        calendar=cal or calendar(),
    )


def at_city(case: Case, now: datetime) -> list[CaseEvent]:
    """Receipt step done, transferred to the city and acknowledged there."""
    events = case.transfer("desk1", CITY, now)
    return events + case.acknowledge_transfer("city_clerk", now)


def result_document(kind: DocumentKind = DocumentKind.RESULT) -> dict[str, Any]:
    """A signed result's manifest entry as `ResultAttached` carries it, in its JSON form."""
    return DocumentManifest(
        document_id=uuid4(), kind=kind, checklist_item=0, item_name="Kết quả giải quyết", sha256="ab" * 32,
        size=48_213, media_type="application/pdf", digitisation=Digitisation.DIGITISED, uploaded_at=at(17, 9),
    ).model_dump(mode="json")


def types(events: list[CaseEvent]) -> list[str]:
    return [e.type for e in events]


E = TypeVar("E", bound=CaseEvent)


def first(events: list[CaseEvent], kind: type[E]) -> E:
    """The first event of a type, typed for attribute access."""
    matching = [e for e in events if isinstance(e, kind)]
    assert matching, f"no {kind.type} in {types(events)}"
    return matching[0]
