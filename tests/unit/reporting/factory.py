"""Helpers for building fact rows in tests: local (Vietnam) times and a fact with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.reporting.domain import FactRow

VN = ZoneInfo("Asia/Ho_Chi_Minh")
WARD = "000.00.12.H55"  # the ward (phường) desk
CITY = "000.01.00.H55"  # a city department (sở) that settles forwarded dossiers
OTHER_WARD = "000.00.13.H55"

_ids = itertools.count(1)


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A local Vietnam wall-clock time, returned as an aware UTC datetime (as facts store them)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=VN).astimezone(UTC)


MARCH = (vn(2024, 3, 1), vn(2024, 4, 1))


def fact(**overrides: Any) -> FactRow:
    """A ward dossier received on 5 March 2024 09:00, due 15 March 16:00, still pending."""
    number = next(_ids)
    values: dict[str, Any] = {
        "dossier_id": f"d{number}", "code": f"{WARD}-240305-{number:04d}",
        "receiving_agency": WARD, "competent_agency": WARD,
        "procedure_code": "1.001193", "procedure_name": "Đăng ký khai sinh", "field": "Hộ tịch",
        "level": "ward", "channel": "in_person", "online_level": "full",
        "received_at": vn(2024, 3, 5, 9), "appointment_at": vn(2024, 3, 15, 16),
    }
    values.update(overrides)
    if values.get("resolved_at") is not None and "outcome" not in overrides:
        values["outcome"] = "approved"
    return FactRow(**values)
