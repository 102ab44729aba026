"""Receiving a dossier at the desk (tiếp nhận hồ sơ): pure rules, no I/O."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from libs.calendar import LimitUnit, TimeLimit, WorkCalendar
from libs.catalogue import ProcedureVersion

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def local_day(moment: datetime) -> date:
    """The receipt day that goes into the dossier code (YYMMDD) is the Vietnamese calendar day."""
    return moment.astimezone(LOCAL).date()


def appointment(version: ProcedureVersion, received_at: datetime, calendar: WorkCalendar) -> datetime:
    """The appointment printed on the receipt (Form 01), from the version in force on the receipt day."""
    limit = TimeLimit(version.time_limit.value, LimitUnit(version.time_limit.unit))
    return calendar.due(received_at, limit, version.cutoff_15h)


def fingerprint(payload: dict[str, Any]) -> str:
    """Stable hash of a request body, so a reused Idempotency-Key with another body is caught."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
