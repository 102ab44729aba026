"""The Vietnamese wording of the desk, read once from templates/texts.vi.yaml."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from services.intake.domain.receipt import LOCAL

TEXTS = Path(__file__).parent / "templates" / "texts.vi.yaml"


@cache
def texts() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(TEXTS.read_text(encoding="utf-8"))
    return data


def label(group: str, key: str | None) -> str:
    """The wording of `key` in `group` (e.g. states/received); the key itself when there is none."""
    if key is None:
        return ""
    return str(texts()[group].get(key, key))


def text(key: str) -> str:
    """A single top-level wording, e.g. `applicant`."""
    return str(texts()[key])


def local_time(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL).strftime(texts()["datetime"]) if moment else ""


def next_step_text(key: str, appointment_at: datetime | None) -> str:
    sentence = str(texts()["next_step"].get(key, ""))
    return sentence.format(appointment=local_time(appointment_at) or "—")
