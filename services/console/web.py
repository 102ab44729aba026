"""What every page shares: the Jinja2 environment, the signed-in officer, CSRF, and time formatting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from libs.clock import Clock
from services.console.catalogue import ProcedureCache
from services.console.client import ServiceError, Services
from services.console.directory import Directory
from services.console.oidc import Oidc
from services.console.sessions import Session, SessionStore, check_csrf
from services.console.settings import ConsoleSettings

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DUE_SOON_SECONDS = 24 * 3600  # "sắp đến hạn": less than a day left
# A dossier code as it goes into the services' URLs: letters, digits, dots and dashes (no "..", no "/").
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,63}$"
DossierCode = Annotated[str, Path(pattern=CODE_PATTERN)]
ROLE_LABELS = {
    "desk_officer": "Cán bộ một cửa", "specialist": "Chuyên viên", "department_head": "Lãnh đạo",
    "report_viewer": "Xem báo cáo", "admin": "Quản trị",
}


@dataclass
class Console:
    settings: ConsoleSettings
    services: Services
    sessions: SessionStore
    directory: Directory | None
    oidc: Oidc | None
    templates: Jinja2Templates
    procedures: ProcedureCache
    clock: Clock  # the suite's clock: `controlled` in demos and tests, so "time left" agrees with the services
    wards: dict[str, str] = field(default_factory=dict)  # e-ID → name: where a citizen may file online


def console(request: Request) -> Console:
    c: Console = request.app.state.console
    return c


class SignInRequired(Exception):
    """No live session: the handler sends the browser to sign-in, then back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def _asked_for(request: Request) -> str:
    """Where to return after sign-in: the page asked for. htmx asks for fragments and a form posts to an action
    URL, so for those it is the page the officer was on (HX-Current-URL, or the Referer of a post)."""
    current = request.headers.get("HX-Current-URL") or (request.headers.get("Referer") if request.method != "GET"
                                                          else None)
    if current:
        path = current.split("://", 1)[-1]
        return "/" + path.split("/", 1)[1] if "/" in path else "/"
    if request.method != "GET":
        return "/"
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def signed_in(request: Request) -> Session:
    session = console(request).sessions.find(request)
    if session is None:
        raise SignInRequired(_asked_for(request))
    return session


Officer = Annotated[Session, Depends(signed_in)]


async def posted(request: Request, session: Officer) -> Session:
    """A signed-in officer's form post carrying the session's CSRF token (403 otherwise)."""
    await check_csrf(request, session.csrf)
    return session


Poster = Annotated[Session, Depends(posted)]


def require_role(session: Session, *roles: str) -> None:
    if not session.officer.has(*roles):
        names = ", ".join(ROLE_LABELS.get(r, r) for r in roles)
        raise HTTPException(403, f"Trang này dành cho: {names}.")


def sign_in_url(next_path: str) -> str:
    return f"/sign-in?next={quote(next_path, safe='')}"


def local(moment: str | datetime | None, fmt: str = "%H:%M %d/%m/%Y") -> str:
    if not moment:
        return ""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(TZ).strftime(fmt)


def time_left(due: str | None, overdue: bool = False, now: datetime | None = None) -> tuple[str, str]:
    """(css class, text): within the limit, due soon (< 1 day), or overdue."""
    if not due:
        return "none", "—"
    seconds = (datetime.fromisoformat(due) - (now or datetime.now(UTC))).total_seconds()
    if overdue or seconds < 0:
        return "overdue", f"Quá hạn {_span(-seconds)}" if seconds < 0 else "Quá hạn"
    if seconds < DUE_SOON_SECONDS:
        return "soon", f"Sắp đến hạn: còn {_span(seconds)}"
    return "within", f"Trong hạn: còn {_span(seconds)}"


def _span(seconds: float) -> str:
    hours = int(seconds // 3600)
    return f"{hours // 24} ngày {hours % 24} giờ" if hours >= 24 else f"{hours} giờ {int(seconds % 3600 // 60)} phút"


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    c = console(request)
    session = c.sessions.find(request)
    return c.templates.TemplateResponse(request, template, {"session": session, **context}, status_code=status)


def templates(clock: Clock) -> Jinja2Templates:
    t = Jinja2Templates(directory=str(FilePath(__file__).parent / "templates"))
    t.env.filters["local"] = local

    def left(due: str | None, overdue: bool = False) -> tuple[str, str]:
        return time_left(due, overdue, clock.now())

    t.env.globals["time_left"] = left
    t.env.globals["role_labels"] = ROLE_LABELS
    return t


def error_page(request: Request, exc: ServiceError, back: str = "/") -> HTMLResponse:
    status = exc.status if exc.status in (403, 404, 409, 422, 429, 503) else 502
    return render(request, "error.html", status=status, message=exc.message, back=back)
