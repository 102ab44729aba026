"""Intake (the desk): wires settings, catalogue, calendar, database, Kafka, telemetry and HTTP."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from prometheus_client import Counter

from libs.calendar import load_calendar
from libs.catalogue import load_catalogue
from libs.contracts import topics
from libs.runtime import Runtime, build_runtime, create_http_app
from services.intake import api, handlers
from services.intake.ratelimit import TokenBuckets
from services.intake.service import Desk
from services.intake.settings import IntakeSettings
from services.intake.store import metadata

NAME = "intake"
Settings = IntakeSettings


def build() -> Runtime:
    rt = build_runtime(
        NAME, Settings(), metadata, Path(__file__).parent / "migrations",
        produces=topics.INTAKE, consumes=[topics.PROCESSING],
    )
    handlers.register(rt)
    return rt


def create_app() -> FastAPI:
    rt = build()
    received = Counter(
        "onestop_dossiers_received", "Dossiers received at the desk",
        ["service", "agency", "procedure", "channel"], registry=rt.registry,
    )
    cfg = rt.common.config_file
    catalogue = load_catalogue(cfg("agencies.yaml"), cfg("procedures.yaml"))
    desk = Desk(rt, catalogue, load_calendar(cfg("calendar.yaml")), received)
    settings: IntakeSettings = rt.settings  # type: ignore[assignment]
    app = create_http_app(
        rt, [api.router(), api.public_router()], "OneStop intake",
        "The one-stop desk: receipt, refusal, supplements, withdrawal, hand-over, rating, slips and the "
        "citizen look-up.",
    )
    app.state.desk = desk
    app.state.lookup_limit = TokenBuckets(settings.lookup_burst, settings.lookup_per_minute / 60.0)
    app.state.lookups = Counter(
        "onestop_lookups", "Citizen status look-ups", ["service", "outcome"], registry=rt.registry,
    )
    return app
