"""Configuration parsing and the errors an operator sees."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from libs.calendar import CalendarConfig, LimitUnit, TimeLimit, WorkCalendar, load_calendar


def test_defaults_are_the_state_office_ones() -> None:
    cal = WorkCalendar(CalendarConfig())
    assert cal.hours_per_day == 8
    assert cal.config.cutoff == time(15, 0)
    assert str(cal.tz) == "Asia/Ho_Chi_Minh"


def test_shipped_yaml_loads() -> None:
    cal = load_calendar()
    assert cal.config.extra_days_off[0].date == date(2026, 1, 2)


def test_load_from_path(tmp_path: Path) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text(
        'cutoff: "16:00"\nextra_days_off:\n  - {date: 2030-03-04, name: "test"}\n', encoding="utf-8"
    )
    cal = load_calendar(path)
    assert cal.config.cutoff == time(16, 0)
    assert not cal.is_working_day(date(2030, 3, 4))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"cutoff": "3pm"}, "cutoff"),
        ({"cutoff": 810}, "cutoff"),  # what YAML makes of an unquoted 13:30
        ({"office_periods": [{"start": "07:00", "end": "25:00"}]}, "office_periods"),
        ({"office_periods": [{"start": "11:00", "end": "07:00"}]}, "office_periods"),
        (
            {"office_periods": [{"start": "07:00", "end": "12:00"}, {"start": "11:30", "end": "17:00"}]},
            "office_periods",
        ),
        ({"office_periods": []}, "office_periods"),
        (
            {
                "extra_days_off": [{"date": "2026-05-04"}],
                "extra_working_days": [{"date": "2026-05-04"}],
            },
            "extra_days_off and extra_working_days",
        ),
        ({"extra_days_off": [{"date": "2026-05-04"}, {"date": "2026-05-04"}]}, "extra_days_off"),
        ({"timezone": "Asia/Nowhere"}, "timezone"),
        ({"country": "XX"}, "country"),
        ({"weekly_rest_days": ["caturday"]}, "weekly_rest_days"),
        ({"holidays": []}, "holidays"),
    ],
)
def test_config_errors_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        CalendarConfig.model_validate(data)


def test_custom_periods_change_the_working_day_length() -> None:
    cal = WorkCalendar(
        CalendarConfig.model_validate({"office_periods": [{"start": "08:00", "end": "12:00"}]})
    )
    assert cal.hours_per_day == 4
    received = datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))  # Monday
    due = cal.due(received, TimeLimit(1, LimitUnit.WORKING_DAYS), cutoff=False)
    assert due == datetime(2026, 3, 3, 9, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
