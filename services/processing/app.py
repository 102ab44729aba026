"""Processing (the workflow): wires settings, database, Kafka, telemetry and HTTP."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from libs.contracts import topics
from libs.runtime import Runtime, build_runtime, create_http_app
from services.processing import api, handlers
from services.processing.settings import ProcessingSettings
from services.processing.store import metadata

NAME = "processing"
Settings = ProcessingSettings


def build() -> Runtime:
    rt = build_runtime(
        NAME, Settings(), metadata, Path(__file__).parent / "migrations",
        produces=topics.PROCESSING, consumes=[topics.INTAKE],
    )
    handlers.register(rt)
    return rt


def create_app() -> FastAPI:
    rt = build()
    return create_http_app(rt, [api.router()], "OneStop processing", "Workflow: cases, steps, deadlines.")
