"""Processing (the workflow): wires settings, calendar, database, Kafka, the deadline sweep, telemetry and HTTP."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from prometheus_client import Counter

from libs.calendar import load_calendar
from libs.contracts import topics
from libs.runtime import Runtime, build_runtime, create_http_app
from services.processing import api, handlers
from services.processing.service import Workflow
from services.processing.settings import ProcessingSettings
from services.processing.store import metadata

NAME = "processing"
Settings = ProcessingSettings


def assemble(settings: ProcessingSettings | None = None) -> tuple[Runtime, Workflow]:
    settings = settings or Settings()
    rt = build_runtime(
        NAME, settings, metadata, Path(__file__).parent / "migrations",
        produces=topics.PROCESSING, consumes=[topics.INTAKE],
    )
    events_total = Counter(
        "onestop_case_events", "Case events emitted by processing", ["service", "type"], registry=rt.registry
    )
    workflow = Workflow(rt, load_calendar(rt.common.config_file("calendar.yaml")), settings, events_total)
    handlers.register(rt, workflow)
    rt.loops.append(workflow.run_sweeps)
    return rt, workflow


def build() -> Runtime:
    return assemble()[0]


def create_app() -> FastAPI:
    rt, workflow = assemble()
    app = create_http_app(rt, [api.router()], "OneStop processing", "Workflow: cases, steps, deadlines.")
    app.state.workflow = workflow
    return app
