"""Processing's own metrics (the pipeline's shared ones are `libs.observability.PipelineMetrics`)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter

from services.processing.domain import CaseEvent


class ProcessingMetrics:
    """Created against the process's registry (app.py); counted once the transaction has committed."""

    def __init__(self, registry: CollectorRegistry, service: str = "processing") -> None:
        self.service = service
        self.case_events = Counter(
            "onestop_case_events", "Case events emitted by processing", ["service", "type"], registry=registry
        )
        # An officer's action decided again because a background writer saved the case between its read and
        # its save (issue 18): the officer never sees these; a steady rate points at a too-eager sweep.
        self.redecided = Counter(
            "onestop_actions_redecided", "Officer actions decided again after a background write", ["service"],
            registry=registry,
        ).labels(service)

    def count(self, events: Iterable[CaseEvent]) -> None:
        """Case events committed (opened, changed by an officer or the desk, warned by the sweep)."""
        for event in events:
            self.case_events.labels(self.service, event.type).inc()
