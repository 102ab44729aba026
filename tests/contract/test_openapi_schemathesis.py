"""The four services' OpenAPI documents tell the truth: schemathesis, every check, against each app in-process.

Each service is its real HTTP app (create_app: routes, admission, body limit, error handlers) on a SQLite file
of its own, served through schemathesis' ASGI transport. Its lifespan here is the database part of the
runtime's only (migrations up, the engine closed after): a route never talks to Kafka (it stages its events
in the outbox table), so the broker, relays, consumers and loops stay off, nothing reaches other tests' topics,
no broker is needed, and /readyz answers its documented 503. A fixed seed and a bounded number of examples keep
the run short and the same on every run.

Every check runs (`--checks all`): a response must be declared with its status, media type, headers and body
schema; a schema-valid request must not be refused as malformed, a schema-invalid one must be; auth must be
enforced; no 5xx. The few rules OpenAPI cannot state (a procedure must be in the catalogue in force today; `to`
not before `from`; an Idempotency-Key names one body) are kept by the schema-valid requests generated here
(`_keep_runtime_rules`), so they reach the code behind validation instead of being refused for a rule the
document cannot show; schema-invalid requests stay as generated. Not covered: `/metrics` (not in the documents)
and `/admin/clock` (exists only with ONESTOP_CLOCK=controlled; here the clock is the system's)."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.python import asgi
from schemathesis.specs.openapi.schemas import OpenApiSchema
from starlette.types import ASGIApp, Receive, Scope, Send

from libs.auth import issue_token
from libs.catalogue import CatalogueError
from libs.db import upgrade
from libs.runtime import Runtime
from libs.settings import CommonSettings
from services.intake import app as intake_app
from services.intake.desk import Desk
from services.intake.domain.receipt import local_day
from services.notifications import app as notifications_app
from services.processing import app as processing_app
from services.reporting import app as reporting_app

SEED = 20_150_115  # fixed: a failure found once is found again on every run
MAX_EXAMPLES = 15  # per operation in the fuzzing phase; the coverage phase adds its boundary cases to these
WARD = "000.00.21.H55"  # a ward of deploy/config/agencies.yaml
# A role that may call every route of the service (the tracking book: desk_officer is one of its two roles).
ROLES: dict[str, list[str]] = {
    "intake": ["desk_officer"], "processing": ["specialist"], "notifications": ["desk_officer"],
    "reporting": ["report_viewer"],
}
APPS: dict[str, Callable[[], FastAPI]] = {
    "intake": intake_app.create_app, "processing": processing_app.create_app,
    "notifications": notifications_app.create_app, "reporting": reporting_app.create_app,
}
CONFIG: dict[str, Any] = {
    "seed": SEED,
    # No example database: every run generates the same cases from the seed, and writes nothing to the tree.
    "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
    "checks": {"enabled": True},  # every check; none is switched off
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
    # /readyz says 503 when the database or Kafka is away: that is its job, and Kafka is not connected here (its
    # documented 503 is checked like any answer). Every other operation: no 5xx at all.
    "operations": [{"include-path": "/readyz", "checks": {
        "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "503"]}}}],
}
NAMES_A_PROCEDURE = {"/api/v1/dossiers", "/api/v1/dossiers/refusals", "/api/v1/paper-requests"}
BOOK_DAYS = 366  # services/intake/domain: a tracking book covers at most this many days


@pytest.fixture(scope="module")
def contract_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each app's database is a SQLite file of this run; the clock is the system's (no /admin/clock)."""
    run_dir: Path = tmp_path_factory.mktemp("openapi")
    env = {"ONESTOP_RUN_DIR": str(run_dir), "ONESTOP_CLOCK": "system"}
    env |= {f"ONESTOP_{name.upper()}_DATABASE_URL": f"sqlite+aiosqlite:///{run_dir / name}.db" for name in APPS}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        yield


@pytest.fixture(scope="module", params=sorted(APPS))
def service_schema(request: pytest.FixtureRequest, contract_env: None) -> Iterator[OpenApiSchema]:
    """One service's document, loaded from its app (whose lifespan starts here and stops after its test)."""
    name: str = request.param
    token = issue_token(f"openapi-{name}", ROLES[name], WARD, CommonSettings().jwt_secret)
    # The bearer scheme the documents declare (FastAPI's HTTPBearer), given this token: schemathesis sends it,
    # and also tries each operation without it and with a wrong one (the ignored_auth check).
    config = schemathesis.Config.from_dict({**CONFIG, "auth": {"openapi": {"HTTPBearer": {"bearer": token}}}})
    app = APPS[name]()
    schema = schemathesis.openapi.from_asgi("/openapi.json", _with_database_only(app), config=config)
    schema.hook(_keep_runtime_rules(_receivable(app.state.desk) if name == "intake" else []))
    try:
        yield schema
    finally:
        asgi.shutdown_lifespans()


def _with_database_only(app: FastAPI) -> ASGIApp:
    """The app, with a lifespan that migrates its database and closes it at the end, and starts nothing else."""
    rt: Runtime = app.state.runtime

    async def served(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        await receive()  # lifespan.startup
        await upgrade(rt.engine, rt.migrations)
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await rt.engine.dispose()
        rt.tracer_provider.shutdown()
        await send({"type": "lifespan.shutdown.complete"})

    return served


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32's from_fixture reads and writes `Node._nodeid`, which pytest 9.2 no longer has (the id
    is `Node._id` there): give it the attribute it reads. What it writes back is then unused."""
    request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("service_schema")


@schema.parametrize()
def test_openapi_documents_tell_the_truth(case: schemathesis.Case) -> None:
    case.call_and_validate()


# ---- the rules the documents cannot state, kept by the schema-valid requests ------------------------------

def _receivable(desk: Desk) -> list[str]:
    """Codes of the procedures in force today (the desk's local day) that the ward's desk may receive."""
    today, catalogue = local_day(desk.clock.now()), desk.catalogue
    codes = []
    for version in catalogue.procedures(today):
        try:
            catalogue.snapshot(version.code, today, WARD)
        except CatalogueError:
            continue
        codes.append(version.code)
    assert codes, f"no procedure in force today may be received at {WARD}"
    return codes


def _keep_runtime_rules(
    procedures: list[str],
) -> Callable[[schemathesis.HookContext, schemathesis.Case], schemathesis.Case]:
    def map_case(_context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
        """schemathesis' `map_case` hook (registered by this name): each generated request, before it is sent."""
        if case.meta is not None and case.meta.generation.mode.is_negative:
            return case  # a schema-invalid request stays as generated: it must be refused
        if case.operation.path in NAMES_A_PROCEDURE and isinstance(case.body, dict):
            _in_catalogue(case, procedures)
        if isinstance(case.query, dict) and "from" in case.query and "to" in case.query:
            _a_period(case, case.query)
        return case

    return map_case


def _in_catalogue(case: schemathesis.Case, procedures: list[str]) -> None:
    """A procedure the desk may receive today (picked from the body, so the same body picks the same one); and
    an Idempotency-Key that names this one body, as a client's key does (another body under a used key is 422)."""
    assert isinstance(case.body, dict)
    text = json.dumps(case.body, sort_keys=True, default=str)
    case.body["procedure_code"] = procedures[zlib.crc32(text.encode()) % len(procedures)]
    if case.headers and "Idempotency-Key" in case.headers:
        body = json.dumps(case.body, sort_keys=True, default=str)
        case.headers["Idempotency-Key"] = hashlib.sha256(f"{case.operation.path} {body}".encode()).hexdigest()


def _a_period(case: schemathesis.Case, query: dict[str, Any]) -> None:
    """`to` not before `from`; a tracking book of at most BOOK_DAYS days; `as_of` not before the period."""
    start, end = _day(query["from"]), _day(query["to"])
    if start is None or end is None:
        return
    start, end = min(start, end), max(start, end)
    if case.operation.path == "/api/v1/tracking-book":
        end = start + timedelta(days=(end - start).days % BOOK_DAYS)
    query["from"], query["to"] = start.isoformat(), end.isoformat()
    as_of = _moment(query.get("as_of"))
    if as_of is not None and as_of.date() <= start:
        del query["as_of"]


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
