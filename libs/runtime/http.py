"""The HTTP side every service shares: lifespan, /healthz, /readyz, /metrics, request metrics, traces."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

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

from libs.clock import ControlledClock
from libs.identity import IsoDateTime
from libs.messaging.errors import is_transient
from libs.observability import DossierLogContext
from libs.runtime.admission import Admission, AdmissionMetrics, Limits
from libs.runtime.body_limit import BodyLimit
from libs.runtime.runtime import Runtime

TEN_YEARS = 10 * 366 * 86400


def ops_router(rt: Runtime) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "alive", "service": rt.name}

    @router.get("/readyz")
    async def readyz(response: Response) -> dict[str, str]:
        checks = {"database": await _db_ok(rt), "kafka": await _kafka_ok(rt)}
        ready = all(v == "ok" for v in checks.values())
        response.status_code = 200 if ready else 503
        return {"status": "ready" if ready else "not ready", **checks}

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(rt.registry), media_type=CONTENT_TYPE_LATEST)

    if isinstance(rt.clock, ControlledClock) and rt.common.environment == "development":
        router.include_router(_clock_router(rt.clock))
    return router


class ClockChange(BaseModel):
    set: IsoDateTime | None = None  # jump to this moment
    # or move forward (negative: back) by this much: ten years at most, so the clock stays a real date
    advance_seconds: float | None = Field(default=None, ge=-TEN_YEARS, le=TEN_YEARS)


def _clock_router(clock: ControlledClock) -> APIRouter:
    """Exists only with ONESTOP_CLOCK=controlled: demos and tests jump days of desk work."""
    router = APIRouter(prefix="/admin", tags=["operations"])

    @router.get("/clock")
    async def read_clock() -> dict[str, str]:
        return {"now": clock.now().isoformat(), "mode": "controlled"}

    @router.post("/clock")
    async def change_clock(change: ClockChange) -> dict[str, str]:
        if (change.set is None) == (change.advance_seconds is None):
            raise HTTPException(422, "give exactly one of 'set' and 'advance_seconds'")
        try:
            now = clock.set(change.set) if change.set else clock.advance(timedelta(seconds=change.advance_seconds or 0))
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        return {"now": now.isoformat(), "mode": "controlled"}

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
    return JSONResponse({"detail": "database unavailable, please retry"}, status_code=503,
                        headers={"Retry-After": "1"})


async def _invalid_request(_request: Request, exc: Exception) -> Response:
    """FastAPI's 422, less the input: each error names the field and the rule, never the value (the default
    echoed the whole body back: a 10 MB body gave a 10 MB answer, personal ID included)."""
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
              for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


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
    for router in routers:
        app.include_router(router, prefix="/api/v1")
    app.add_exception_handler(DBAPIError, _database_unavailable)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    admission = AdmissionMetrics(rt.name, rt.registry)
    app.add_exception_handler(PoolTimeout, _no_connection(admission))
    app.add_middleware(DossierLogContext)  # log lines of a request about one dossier carry its code
    instrument_requests(app, rt.registry)
    # One server span per request; the ASGI receive/send child spans would double the tracing cost per call.
    FastAPIInstrumentor.instrument_app(app, tracer_provider=rt.tracer_provider, excluded_urls="metrics,healthz",
                                       exclude_spans=["receive", "send"])
    s = rt.settings
    limits = Limits(max_in_flight=s.max_in_flight, queue_max=s.queue_max, queue_wait=s.queue_wait_seconds,
                    public_in_flight=s.public_in_flight)
    app.add_middleware(BodyLimit, max_bytes=s.max_body_bytes)
    app.add_middleware(Admission, limits=limits, metrics=admission)  # outermost: a refusal costs nothing more
    return app
