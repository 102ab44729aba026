"""Events owned by processing (the workflow) on `onestop.processing.v1`."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from libs.contracts import topics
from libs.contracts.base import Event


class ProcessingEvent(Event):
    topic: ClassVar[str] = topics.PROCESSING
    source: ClassVar[str] = "/onestop/processing"


class CaseOpened(ProcessingEvent):
    """Processing took the dossier into its workflow."""

    ce_type: ClassVar[str] = "vn.onestop.case.opened.v1"

    agency: str  # the agency that holds the first step
    competent_agency: str
    state: str
    appointment_at: datetime
    opened_at: datetime
