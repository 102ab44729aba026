"""Processing (the workflow): wires settings, calendar, database, Kafka, the deadline sweep, telemetry and HTTP.

What each part needs is passed to it here: the cases (officers' actions and the desk's events) and the sweep
get the sessions, the clock, the calendar, the outbox and the metrics; the consumer gets the batch handler."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from libs.calendar import load_calendar
from libs.clock import Clock
from libs.contracts import topics
from libs.messaging import EventConsumer, Outbox
from libs.runtime import Runtime, build_runtime, create_http_app
from libs.settings import CommonSettings
from services.processing import api, handlers, store
from services.processing.cases import Cases
from services.processing.metrics import ProcessingMetrics
from services.processing.settings import ProcessingSettings
from services.processing.sweep import DeadlineSweep

NAME = "processing"
Settings = ProcessingSettings


@dataclass(eq=False)
class Processing:
    """One processing process, wired."""

    rt: Runtime
    outbox: Outbox
    consumer: EventConsumer
    metrics: ProcessingMetrics
    cases: Cases
    sweep: DeadlineSweep


def assemble(
    settings: ProcessingSettings | None = None, *, common: CommonSettings | None = None, clock: Clock | None = None
) -> Processing:
    """`clock`: instead of the one the common settings choose (tests, benchmarks)."""
    settings = settings or Settings()
    rt = build_runtime(NAME, settings, Path(__file__).parent / "migrations", common)
    if clock is not None:
        rt.clock = clock
    calendar = load_calendar(rt.common.config_file("calendar.yaml"))
    metrics = ProcessingMetrics(rt.registry, NAME)
    outbox = rt.producing(topics.PROCESSING, store.OUTBOX)
    cases = Cases(rt.sessions, rt.clock, calendar, outbox, metrics)
    sweep = DeadlineSweep(rt.sessions, rt.clock, calendar, outbox, metrics, settings)
    consumer = rt.consuming([topics.INTAKE], store.INBOX, handlers.EVENTS, handlers.desk_events(cases),
                            after_commit=outbox.wake)
    rt.loops.append(sweep.run_sweeps)
    return Processing(rt, outbox, consumer, metrics, cases, sweep)


def build() -> Runtime:
    return assemble().rt


def create_app() -> FastAPI:
    processing = assemble()
    app = create_http_app(processing.rt, [api.router()], "OneStop processing", "Workflow: cases, steps, deadlines.")
    app.state.cases = processing.cases
    return app
