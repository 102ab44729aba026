"""Intake (the desk): wires settings, catalogue, calendar, database, Kafka, telemetry and HTTP."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from prometheus_client import Counter

from libs.calendar import load_calendar
from libs.catalogue import load_catalogue
from libs.contracts import topics
from libs.runtime import Runtime, build_runtime, create_http_app
from services.intake import api
from services.intake.service import Desk
from services.intake.settings import IntakeSettings
from services.intake.store import metadata

NAME = "intake"
Settings = IntakeSettings


def build() -> Runtime:
    return build_runtime(
        NAME, Settings(), metadata, Path(__file__).parent / "migrations",
        produces=topics.INTAKE,
    )


def create_app() -> FastAPI:
    rt = build()
    received = Counter(
        "onestop_dossiers_received", "Dossiers received at the desk",
        ["service", "agency", "procedure", "channel"], registry=rt.registry,
    )
    desk = Desk(rt, load_catalogue(), load_calendar(), received)
    app = create_http_app(rt, [api.router()], "OneStop intake", "The one-stop desk: receipt and look-up.")
    app.state.desk = desk
    return app
