"""The base of every event: a pydantic payload plus the class-level CloudEvents identity."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

# ce_type -> model; filled by Event.__init_subclass__, one source of truth for parsing.
REGISTRY: dict[str, type[Event]] = {}


class Event(BaseModel):
    """A dossier event. Subclasses set `ce_type`, `topic` and `source`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    ce_type: ClassVar[str] = ""
    topic: ClassVar[str] = ""
    source: ClassVar[str] = ""

    dossier_id: UUID
    code: str  # the dossier code (mã hồ sơ), also the CloudEvents subject

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.ce_type:
            if cls.ce_type in REGISTRY:
                raise TypeError(f"duplicate event type {cls.ce_type}")
            REGISTRY[cls.ce_type] = cls

    @property
    def key(self) -> bytes:
        """Kafka key: the dossier id, so one dossier's events stay ordered on one partition."""
        return str(self.dossier_id).encode()


def event_class(ce_type: str) -> type[Event] | None:
    return REGISTRY.get(ce_type)
