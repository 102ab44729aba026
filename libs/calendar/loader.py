"""The one place the calendar touches the file system."""

from __future__ import annotations

from pathlib import Path

import yaml

from libs.calendar.config import CalendarConfig
from libs.calendar.work_calendar import WorkCalendar

# libs/calendar/loader.py → repo root is two levels above this package.
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "deploy" / "config" / "calendar.yaml"


def load_calendar(path: Path | None = None) -> WorkCalendar:
    """Read and validate the calendar YAML (default deploy/config/calendar.yaml)."""
    source = path or DEFAULT_PATH
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected a mapping at the top level")
    return WorkCalendar(CalendarConfig.model_validate(data))
