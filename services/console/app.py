"""The console's wiring: settings, the services' client, sessions, sign-in, pages and static files."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from libs.catalogue import load_catalogue
from libs.clock import make_clock
from libs.runtime.body_limit import BodyLimit, allow
from libs.settings import CommonSettings
from services.console.catalogue import ProcedureCache
from services.console.client import ServiceError, Services
from services.console.directory import Directory
from services.console.oidc import Oidc
from services.console.pages import auth, citizen, desk, documents, notices, online, queue, reports, submissions
from services.console.sessions import SessionStore
from services.console.settings import ConsoleSettings
from services.console.web import Console, SignInRequired, error_page, render, sign_in_url, templates

Settings = ConsoleSettings
STATIC = Path(__file__).parent / "static"


def build(settings: ConsoleSettings) -> Console:
    urls = {"intake": settings.intake_url, "processing": settings.processing_url,
            "notifications": settings.notifications_url, "reporting": settings.reporting_url}
    oidc = None
    if settings.auth == "oidc":
        oidc = Oidc(settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret, settings.oidc_scope,
                    f"{settings.public_url.rstrip('/')}/auth/callback", settings.session_secret)
    common = CommonSettings()
    clock = make_clock(common.clock, common.clock_file)
    services = Services(urls)
    # The agency tree is shared configuration (the file intake reads); the wards are where citizens file online.
    agencies = load_catalogue(common.config_file("agencies.yaml"), common.config_file("procedures.yaml")).agencies
    return Console(
        settings=settings, services=services, clock=clock, procedures=ProcedureCache(services),
        sessions=SessionStore(settings.session_secret, settings.session_minutes * 60, settings.secure_cookies),
        directory=Directory.load(settings.directory_file) if settings.auth == "local" else None,
        oidc=oidc, templates=templates(clock), wards={a.eid: a.short_name for a in agencies("ward")},
    )


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    c = build(settings or ConsoleSettings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await c.services.aclose()

    app = FastAPI(title="OneStop console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = c
    for module in (auth, submissions, desk, documents, queue, reports, notices, citizen, online):
        app.include_router(module.router())
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _handlers(app)
    app.middleware("http")(_headers)
    # Forms are small: the suite's bound, refused before parsing. The scan upload's form may be larger: its bound
    # is above intake's per-file limit (20 MB) plus the form's envelope, so an oversized file gets its reason in
    # Vietnamese beside the item (pages/documents.py), never a bare 413 from here.
    app.add_middleware(BodyLimit, max_bytes=c.settings.max_body_bytes)
    for path in (documents.UPLOAD_PATH, documents.DRAFT_UPLOAD_PATH, online.UPLOAD_PATH, r"/cases/[^/]+/result"):
        allow(app, "POST", path, c.settings.max_upload_bytes)

    @app.get("/healthz", include_in_schema=False)
    @app.get("/readyz", include_in_schema=False)  # no database or broker of its own to wait for
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def to_sign_in(request: Request, exc: SignInRequired) -> Response:
        target = sign_in_url(exc.next_path)
        if request.headers.get("HX-Request"):  # a fragment request: send the whole page to sign-in
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(ServiceError)
    async def refused(request: Request, exc: ServiceError) -> HTMLResponse:
        return error_page(request, exc)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> HTMLResponse:
        where = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        return render(request, "error.html", status=404, message=f"Không có trang này ({where}).", back="/")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> HTMLResponse:
        generic = {"Not Found": "Không có trang này.", "Method Not Allowed": "Không hỗ trợ thao tác này."}
        message = generic.get(str(exc.detail), str(exc.detail))
        return render(request, "error.html", status=exc.status_code, message=message, back="/")


async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")  # slips are framed by our own pages only
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
