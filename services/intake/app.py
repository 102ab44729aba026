"""Intake (the desk): wires settings, catalogue, calendar, database, Kafka, telemetry and HTTP."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from libs.calendar import load_calendar
from libs.catalogue import load_catalogue
from libs.contracts import topics
from libs.messaging import Outbox
from libs.runtime import Runtime, build_runtime, create_http_app
from services.intake import api, handlers
from services.intake.desk import Desk
from services.intake.metrics import intake_metrics
from services.intake.ratelimit import LookupLimits, TokenBuckets, networks
from services.intake.settings import IntakeSettings
from services.intake.store.tables import INBOX, OUTBOX

NAME = "intake"
Settings = IntakeSettings
MIGRATIONS = Path(__file__).parent / "migrations"


def build() -> Runtime:
    """The runtime with its Kafka wiring (what the AsyncAPI document is generated from)."""
    return _wire()[0]


def _wire() -> tuple[Runtime, Outbox]:
    rt = build_runtime(NAME, Settings(), MIGRATIONS)
    outbox = rt.producing(topics.INTAKE, OUTBOX)  # the desk's events
    rt.consuming([topics.PROCESSING], INBOX, handlers.CASE_EVENTS, handlers.on_processing_batch,
                 after_commit=outbox.wake)  # the desk follows the workflow
    return rt, outbox


def create_app() -> FastAPI:
    rt, outbox = _wire()
    metrics = intake_metrics(rt.registry)
    cfg = rt.common.config_file
    desk = Desk(
        engine=rt.engine, sessions=rt.sessions, clock=rt.clock, outbox=outbox,
        catalogue=load_catalogue(cfg("agencies.yaml"), cfg("procedures.yaml")),
        calendar=load_calendar(cfg("calendar.yaml")), received_total=metrics.received,
    )
    settings: IntakeSettings = rt.settings  # type: ignore[assignment]
    app = create_http_app(
        rt, [api.router(), api.public_router()], "OneStop intake",
        "The one-stop desk: receipt, refusal, supplements, withdrawal, hand-over, rating, slips and the "
        "citizen look-up.",
    )
    app.state.desk = desk
    app.state.lookup_limit = LookupLimits(
        clients=TokenBuckets(settings.lookup_burst, settings.lookup_per_minute / 60.0, settings.lookup_max_keys),
        codes=TokenBuckets(settings.lookup_code_failures, settings.lookup_code_failures_per_day / 86_400.0,
                           settings.lookup_max_keys),
        trusted=networks(settings.trusted_proxies),
    )
    app.state.lookups = metrics.lookups
    return app
