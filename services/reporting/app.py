"""Reporting: Form 06, indicators and business gauges from a read model rebuilt from Kafka."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI

from libs.calendar import load_calendar
from libs.catalogue import load_catalogue
from libs.runtime import Runtime, build_runtime, create_http_app
from libs.settings import CommonSettings
from services.reporting import api, handlers
from services.reporting.metrics import BusinessMetrics
from services.reporting.projection import CONSUMED
from services.reporting.queries import Reports
from services.reporting.settings import ReportingSettings
from services.reporting.store import metadata

NAME = "reporting"
Settings = ReportingSettings


def build(settings: ReportingSettings | None = None, common: CommonSettings | None = None,
          topic_names: Sequence[str] = CONSUMED, group_id: str | None = None) -> Runtime:
    """The process's runtime; tests pass their own database, broker, topics and consumer group."""
    settings = settings or Settings()
    rt = build_runtime(NAME, settings, metadata, Path(__file__).parent / "migrations", consumes=list(topic_names),
                       common=common)
    calendar = load_calendar(rt.common.config_file("calendar.yaml"))
    metrics = BusinessMetrics(rt.registry, settings.rules(), calendar, settings.due_soon_working_hours)
    handlers.register(rt, metrics, topic_names, group_id or settings.group(NAME))
    rt.loops.append(metrics.loop(rt.engine, rt.clock, settings.gauge_interval_seconds))
    return rt


def create_app(settings: ReportingSettings | None = None, common: CommonSettings | None = None,
               topic_names: Sequence[str] = CONSUMED, group_id: str | None = None) -> FastAPI:
    rt = build(settings, common, topic_names, group_id)
    assert isinstance(rt.settings, ReportingSettings)
    cfg = rt.common.config_file
    reports = Reports(rt.engine, rt.settings.rules(), load_calendar(cfg("calendar.yaml")), fast=rt.settings.fast_form06)
    app = create_http_app(rt, [api.router()], "OneStop reporting", "Form 06, indicators, overdue dossiers, exports.")
    app.state.reports = reports
    app.state.catalogue = load_catalogue(cfg("agencies.yaml"), cfg("procedures.yaml"))
    return app
