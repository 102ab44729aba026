"""Intake's business metrics (prometheus-client, against the process's registry)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter


@dataclass(frozen=True)
class IntakeMetrics:
    received: Counter  # onestop_dossiers_received_total{service,agency,procedure,channel}
    lookups: Counter  # onestop_lookups_total{service,outcome}: found, not_found, limited


def intake_metrics(registry: CollectorRegistry) -> IntakeMetrics:
    return IntakeMetrics(
        received=Counter(
            "onestop_dossiers_received", "Dossiers received at the desk",
            ["service", "agency", "procedure", "channel"], registry=registry,
        ),
        lookups=Counter(
            "onestop_lookups", "Citizen status look-ups", ["service", "outcome"], registry=registry,
        ),
    )
