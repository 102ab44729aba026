"""Reporting: Form 06, indicators and business gauges from a read model rebuilt from Kafka.

Wiring: the runtime every process has; one consumer of the intake and processing topics whose batch
handler folds each batch into the live generation (handlers.py) and counts the endings in the business
metrics after the commit; the business gauges' loop; the HTTP routes over `Reports`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI

from libs.calendar import load_calendar
from libs.catalogue import load_catalogue
from libs.runtime import Runtime, build_runtime, create_http_app
from libs.settings import CommonSettings
from services.reporting import api, handlers
from services.reporting.domain.projection import CONSUMED, Baked, handled_events
from services.reporting.metrics import BusinessMetrics
from services.reporting.reports import Reports
from services.reporting.settings import ReportingSettings
from services.reporting.store.tables import INBOX

NAME = "reporting"
Settings = ReportingSettings
MIGRATIONS = Path(__file__).parent / "migrations"


def build(settings: ReportingSettings | None = None, common: CommonSettings | None = None,
          topic_names: Sequence[str] = CONSUMED, group_id: str | None = None) -> Runtime:
    """The process's runtime; tests pass their own database, broker, topics and consumer group (None: the
    service's group, `rt.group_id`)."""
    settings = settings or Settings()
    rt = build_runtime(NAME, settings, MIGRATIONS, common)
    calendar = load_calendar(rt.common.config_file("calendar.yaml"))
    metrics = BusinessMetrics(rt.registry, settings.rules(), calendar, settings.due_soon_working_hours)
    first = Baked(settings.timezone, settings.judge_to_minute)  # rules of generation 1, if a batch creates it
    rt.consuming(topic_names, INBOX, handled_events(), handlers.fold_into_live(first, calendar, metrics),
                 group_id=group_id)
    rt.loops.append(metrics.loop(rt.engine, rt.clock, settings.gauge_interval_seconds))
    return rt


def create_app(settings: ReportingSettings | None = None, common: CommonSettings | None = None,
               topic_names: Sequence[str] = CONSUMED, group_id: str | None = None) -> FastAPI:
    settings = settings or Settings()
    rt = build(settings, common, topic_names, group_id)
    cfg = rt.common.config_file
    reports = Reports(rt.engine, settings.rules(), load_calendar(cfg("calendar.yaml")), fast=settings.fast_form06)
    app = create_http_app(rt, [api.router()], "OneStop reporting", "Form 06, indicators, overdue dossiers, exports.")
    app.state.reports = reports
    app.state.catalogue = load_catalogue(cfg("agencies.yaml"), cfg("procedures.yaml"))
    return app
