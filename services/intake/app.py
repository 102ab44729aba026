"""Intake (the desk): wires settings, catalogue, calendar, database, Kafka, telemetry and HTTP."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from libs.calendar import load_calendar
from libs.catalogue import load_catalogue
from libs.contracts import topics
from libs.messaging import Outbox
from libs.runtime import Runtime, build_runtime, create_http_app
from libs.runtime.body_limit import allow
from libs.runtime.runtime import UnsafeSettings
from libs.settings import CommonSettings
from libs.storage import StorageSettings, open_store
from services.intake import api, api_chain, api_documents, api_results, api_submissions, handlers
from services.intake.certification import api as certification_api
from services.intake.certification.service import open_certification
from services.intake.desk import Desk
from services.intake.documents import Documents
from services.intake.metrics import intake_metrics
from services.intake.ratelimit import LookupLimits, TokenBuckets, networks
from services.intake.results import Results, result_trust_roots
from services.intake.settings import IntakeSettings
from services.intake.store.tables import INBOX, OUTBOX
from services.intake.submissions import Submissions

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


def storage_settings(common: CommonSettings) -> StorageSettings:
    """The document store's settings (ONESTOP_STORAGE_*); outside development, unsafe ones stop the start."""
    storage = StorageSettings()
    if common.environment != "development" and (problems := storage.unsafe_outside_development()):
        raise UnsafeSettings(NAME, common.environment, problems)
    return storage


def create_app() -> FastAPI:
    rt, outbox = _wire()
    metrics = intake_metrics(rt.registry)
    cfg = rt.common.config_file
    catalogue = load_catalogue(cfg("agencies.yaml"), cfg("procedures.yaml"))
    desk = Desk(
        engine=rt.engine, sessions=rt.sessions, clock=rt.clock, outbox=outbox, catalogue=catalogue,
        calendar=load_calendar(cfg("calendar.yaml")), received_total=metrics.received,
    )
    settings: IntakeSettings = rt.settings  # type: ignore[assignment]
    if rt.common.environment != "development" and (problems := settings.unsafe_outside_development()):
        raise UnsafeSettings(NAME, rt.common.environment, problems)
    storage = storage_settings(rt.common)
    documents = Documents(sessions=rt.sessions, store=open_store(storage), limits=storage, clock=rt.clock,
                          catalogue=catalogue)
    if settings.documents_sweep_enabled:
        rt.loops.append(documents.sweep_loop(settings.documents_sweep_seconds))
    certification = open_certification(sessions=rt.sessions, calendar=desk.calendar, clock=rt.clock,
                                       environment=rt.common.environment, outbox=outbox)
    routers = [api.router(), api.public_router(), api_documents.router(), api_results.router(),
               api_submissions.router(), api_submissions.public_router(), certification_api.router(),
               certification_api.public_router(), api_chain.router()]
    app = create_http_app(
        rt, routers, "OneStop intake",
        "The one-stop desk: receipt, refusal, supplements, withdrawal, hand-over, rating, slips, the scans of a "
        "dossier's papers, electronic certified copies and the citizen look-up.",
    )
    # A scan streams to the document store under its own limit (413 past it): the suite's 1 MiB bound would
    # refuse it first.
    allow(app, "POST", api_documents.UPLOAD_PATH, storage.max_file_bytes)
    allow(app, "POST", api_documents.DRAFT_UPLOAD_PATH, storage.max_file_bytes)  # a scan before the receipt
    allow(app, "POST", api_submissions.UPLOAD_PATH, storage.max_file_bytes)  # an online submission's file
    allow(app, "POST", api_results.UPLOAD_PATH, storage.max_file_bytes)  # the signed result
    allow(app, "POST", certification_api.UPLOAD_PATH, certification.max_original_bytes)  # the original's scan
    app.state.certification = certification
    app.state.desk = desk
    app.state.documents = documents
    app.state.submissions = Submissions(
        sessions=rt.sessions, clock=rt.clock, catalogue=catalogue, desk=desk, documents=documents,
        secret=settings.submission_secret.get_secret_value().encode())
    app.state.results = Results(documents=documents, outbox=outbox, clock=rt.clock,
                                trust_roots=result_trust_roots(rt.common.environment))
    app.state.submission_limit = TokenBuckets(settings.submission_burst, settings.submission_per_minute / 60.0,
                                              settings.lookup_max_keys)
    app.state.lookup_limit = LookupLimits(
        clients=TokenBuckets(settings.lookup_burst, settings.lookup_per_minute / 60.0, settings.lookup_max_keys),
        codes=TokenBuckets(settings.lookup_code_failures, settings.lookup_code_failures_per_day / 86_400.0,
                           settings.lookup_max_keys),
        trusted=networks(settings.trusted_proxies),
    )
    app.state.lookups = metrics.lookups
    return app
