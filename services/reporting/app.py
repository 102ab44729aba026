"""Reporting: Form 06, indicators and business gauges from a read model rebuilt from Kafka."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from libs.contracts import topics
from libs.runtime import Runtime, build_runtime, create_http_app
from services.reporting import api, handlers
from services.reporting.settings import ReportingSettings
from services.reporting.store import metadata

NAME = "reporting"
Settings = ReportingSettings


def build() -> Runtime:
    rt = build_runtime(
        NAME, Settings(), metadata, Path(__file__).parent / "migrations", consumes=list(topics.ALL)
    )
    handlers.register(rt)
    return rt


def create_app() -> FastAPI:
    return create_http_app(build(), [api.router()], "OneStop reporting", "Form 06, indicators, exports.")
