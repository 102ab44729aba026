"""Injectable time. `controlled` mode shares one offset file between all services, so a demo or an
end-to-end test can jump days of desk work in seconds while every process agrees on "now"."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ControlledClock:
    """Real time plus an offset kept in a JSON file (written atomically, re-read when it changes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime = -1.0
        self._offset = timedelta(0)

    def _load(self) -> timedelta:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return timedelta(0)
        if mtime != self._mtime:
            data = json.loads(self.path.read_text() or "{}")
            self._offset = timedelta(seconds=float(data.get("offset_seconds", 0)))
            self._mtime = mtime
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._load()

    def set(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware moment")
        self._write(moment - datetime.now(UTC))
        return self.now()

    def advance(self, delta: timedelta) -> datetime:
        self._write(self._load() + delta)
        return self.now()

    def _write(self, offset: timedelta) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"offset_seconds": offset.total_seconds()}))
        os.replace(tmp, self.path)
        self._mtime = -1.0


def make_clock(mode: str, path: Path) -> Clock:
    if mode == "controlled":
        return ControlledClock(path)
    if mode != "system":
        raise ValueError(f"ONESTOP_CLOCK must be 'system' or 'controlled', not {mode!r}")
    return SystemClock()
