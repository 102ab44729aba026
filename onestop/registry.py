"""The one list of OneStop's services: what the CLI, the AsyncAPI generator and the tests iterate over."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from services.intake import app as intake
from services.notifications import app as notifications
from services.processing import app as processing
from services.reporting import app as reporting


@dataclass(frozen=True)
class Service:
    """A service: its name, its `app` module (NAME, Settings, build(), create_app()) and its migrations."""

    name: str
    app: ModuleType
    port: int

    @property
    def migrations(self) -> Path:
        return Path(self.app.__file__ or "").parent / "migrations"


SERVICES: tuple[Service, ...] = (
    Service("intake", intake, 8001),
    Service("processing", processing, 8002),
    Service("notifications", notifications, 8003),
    Service("reporting", reporting, 8004),
)
NAMES: tuple[str, ...] = tuple(s.name for s in SERVICES)


def service(name: str) -> Service:
    for s in SERVICES:
        if s.name == name:
            return s
    raise KeyError(f"no service {name!r}: one of {', '.join(NAMES)}")
