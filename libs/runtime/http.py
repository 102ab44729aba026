"""The HTTP side every service shares: lifespan, /healthz, /readyz, /metrics, request metrics, traces."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator, metrics
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.routing import compile_path

from libs.clock import ControlledClock
from libs.identity import IsoDateTime
from libs.messaging.errors import is_transient
from libs.observability import DossierLogContext
from libs.runtime.admission import Admission, AdmissionMetrics, Limits
from libs.runtime.answers import answers
from libs.runtime.body_limit import BodyLimit
from libs.runtime.runtime import Runtime

TEN_YEARS = 10 * 366 * 86400
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")  # what a 405's Allow may name


class Health(BaseModel):
    status: Literal["alive"]
    service: str


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    database: str = Field(description="`ok`, or why not")
    kafka: str = Field(description="`ok`, or why not")


_URL_ATTRIBUTES = ("http.url", "http.target", "url.full")


def _without_query(span: Any, _scope: Any) -> None:
    """A query string can be a credential: the citizens' look-up is a dossier code and the last 4 digits of a
    personal ID (`/public/lookup?code=…&id_last4=…`). Server spans keep the path only (issue 15 §3)."""
    if span is None or not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    for key in _URL_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str) and "?" in value:
            span.set_attribute(key, value.split("?", 1)[0])
    if "url.query" in attributes:
        span.set_attribute("url.query", "")


def ops_router(rt: Runtime) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> Health:
        return Health(status="alive", service=rt.name)

    @router.get("/readyz", responses={503: {"model": Readiness, "description": "the database or Kafka is not "
                                                                                "reachable (which, and why)"}})
    async def readyz(response: Response) -> Readiness:
        database, kafka = await _db_ok(rt), await _kafka_ok(rt)
        ready = database == kafka == "ok"
        response.status_code = 200 if ready else 503
        return Readiness(status="ready" if ready else "not ready", database=database, kafka=kafka)

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(rt.registry), media_type=CONTENT_TYPE_LATEST)

    if isinstance(rt.clock, ControlledClock) and rt.common.environment == "development":
        router.include_router(_clock_router(rt.clock))
    return router


class ClockNow(BaseModel):
    now: str = Field(description="ISO 8601, with its offset")
    mode: Literal["controlled"]


class ClockChange(BaseModel):
    set: IsoDateTime | None = None  # jump to this moment
    # or move forward (negative: back) by this much: ten years at most, so the clock stays a real date
    advance_seconds: float | None = Field(default=None, ge=-TEN_YEARS, le=TEN_YEARS)


def _clock_router(clock: ControlledClock) -> APIRouter:
    """Exists only with ONESTOP_CLOCK=controlled: demos and tests jump days of desk work."""
    router = APIRouter(prefix="/admin", tags=["operations"])

    @router.get("/clock")
    async def read_clock() -> ClockNow:
        return ClockNow(now=clock.now().isoformat(), mode="controlled")

    @router.post("/clock", responses=answers(400, 413, 422))
    async def change_clock(change: ClockChange) -> ClockNow:
        if (change.set is None) == (change.advance_seconds is None):
            raise HTTPException(422, "give exactly one of 'set' and 'advance_seconds'")
        try:
            now = clock.set(change.set) if change.set else clock.advance(timedelta(seconds=change.advance_seconds or 0))
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        return ClockNow(now=now.isoformat(), mode="controlled")

    return router


async def _db_ok(rt: Runtime) -> str:
    try:
        async with rt.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


async def _kafka_ok(rt: Runtime) -> str:
    try:
        return "ok" if await rt.broker.ping(timeout=3.0) else "unreachable"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


async def _database_unavailable(_request: Request, exc: Exception) -> Response:
    """A dropped or unreachable database is the server's trouble, not the caller's: 503, try again."""
    if not is_transient(exc):
        raise exc
    return JSONResponse({"detail": "database unavailable, please retry", "retry_after_seconds": 1},
                        status_code=503, headers={"Retry-After": "1"})


async def _invalid_request(_request: Request, exc: Exception) -> Response:
    """FastAPI's 422, less the input: each error names the field and the rule, never the value (the default
    echoed the whole body back: a 10 MB body gave a 10 MB answer, personal ID included)."""
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
              for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    """Starlette's 405 names in `Allow` the methods of the first route on the path only; a path served by two
    routes (GET and POST declared apart) must name both. `Allow` names what the OpenAPI document gives for the
    path; a path the document does not show keeps Starlette's answer."""
    methods = _documented_methods(request.app, request.scope["path"])
    headers = {"Allow": ", ".join(methods)} if methods else getattr(exc, "headers", None)
    return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers=headers)


def _documented_methods(app: FastAPI, path: str) -> list[str]:
    paths: dict[str, dict[str, Any]] = app.openapi().get("paths", {})
    templates = [template for template in paths if compile_path(template)[0].match(path)]
    if not templates:
        return []
    # The most literal template is the route that answers (`/dossiers/refusals` before `/dossiers/{code}`).
    template = min(templates, key=lambda t: t.count("{"))
    return [method for method in METHODS if method.lower() in paths[template]]


def _no_connection(metrics: AdmissionMetrics) -> Any:
    async def handler(_request: Request, _exc: Exception) -> Response:
        """Every pooled connection stayed busy for the whole wait: the service is at its bound."""
        metrics.shed(metrics.service, "db_pool").inc()
        return JSONResponse({"detail": "the service is busy, please try again in 1 s", "retry_after_seconds": 1},
                            status_code=503, headers={"Retry-After": "1"})

    return handler


def instrument_requests(app: FastAPI, registry: CollectorRegistry) -> None:
    """`http_requests_total{method,status,handler}` and `http_request_duration_seconds{method,handler}`: the
    request metrics the dashboards and alerts read. The instrumentator's default set adds three more per
    request (two summaries and a 21-bucket histogram) that nothing reads."""
    (Instrumentator(registry=registry, excluded_handlers=["/metrics"])
     .add(metrics.requests(registry=registry),
          metrics.latency(should_include_status=False, buckets=(0.1, 0.5, 1), registry=registry))
     .instrument(app))


def create_http_app(rt: Runtime, routers: list[APIRouter], title: str, description: str = "") -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await rt.start()
        try:
            yield
        finally:
            await rt.stop()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.state.runtime = rt
    app.include_router(ops_router(rt))
    for router in routers:  # any of them may be refused for now (admission, the database): 503 + Retry-After
        app.include_router(router, prefix="/api/v1", responses=answers(503))
    app.add_exception_handler(DBAPIError, _database_unavailable)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(405, _method_not_allowed)
    admission = AdmissionMetrics(rt.name, rt.registry)
    app.add_exception_handler(PoolTimeout, _no_connection(admission))
    app.add_middleware(DossierLogContext)  # log lines of a request about one dossier carry its code
    instrument_requests(app, rt.registry)
    # One server span per request; the ASGI receive/send child spans would double the tracing cost per call.
    FastAPIInstrumentor.instrument_app(app, tracer_provider=rt.tracer_provider, excluded_urls="metrics,healthz",
                                       exclude_spans=["receive", "send"], server_request_hook=_without_query)
    s = rt.settings
    limits = Limits(max_in_flight=s.max_in_flight, queue_max=s.queue_max, queue_wait=s.queue_wait_seconds,
                    public_in_flight=s.public_in_flight)
    app.add_middleware(BodyLimit, max_bytes=s.max_body_bytes)
    app.add_middleware(Admission, limits=limits, metrics=admission)  # outermost: a refusal costs nothing more
    return app
