"""Sign-in (local directory or OIDC with PKCE), sign-out, and the home page that points each role to its pages."""

from __future__ import annotations

import secrets
import time

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from libs.auth import Officer as TokenOfficer
from libs.auth import issue_token
from libs.settings import CommonSettings
from services.console.oidc import PENDING_COOKIE, PENDING_SECONDS, OidcError
from services.console.sessions import LOGIN_COOKIE, same_token
from services.console.web import Officer, Poster, console, render


def safe_next(value: str | None) -> str:
    """Only a path on this site (no //host, no scheme): the sign-in page must not redirect elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def router() -> APIRouter:
    r = APIRouter()

    @r.get("/")
    async def home(request: Request, session: Officer) -> Response:
        return render(request, "home.html")

    @r.get("/sign-in")
    async def sign_in_form(request: Request, next: str = "/") -> Response:
        c = console(request)
        if c.oidc is not None:
            url, pending = await c.oidc.start(safe_next(next))
            response: Response = RedirectResponse(url, status_code=303)
            response.set_cookie(PENDING_COOKIE, pending, max_age=PENDING_SECONDS, httponly=True, samesite="lax",
                                secure=c.sessions.secure, path="/auth")
            return response
        return _form(request, safe_next(next))

    @r.post("/sign-in")
    async def sign_in(request: Request) -> Response:
        c = console(request)
        form = await request.form()
        if c.directory is None:
            raise HTTPException(404, "Đăng nhập qua cổng định danh.")
        token = request.cookies.get(LOGIN_COOKIE, "")
        if not same_token(token, str(form.get("csrf_token", ""))):
            raise HTTPException(403, "Thiếu hoặc sai mã bảo vệ biểu mẫu (CSRF). Hãy tải lại trang và thử lại.")
        next_path = safe_next(str(form.get("next", "/")))
        username = str(form.get("username", ""))
        account = c.directory.check(username, str(form.get("password", "")))
        if account is None:
            error = ("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút." if c.directory.locked(username)
                     else "Sai tên đăng nhập hoặc mật khẩu.")
            return _form(request, next_path, username=username, error=error, status=401)
        ttl = c.settings.session_minutes * 60
        bearer = issue_token(account.username, list(account.roles), account.agency, CommonSettings().jwt_secret,
                             name=account.name, ttl_seconds=ttl)
        officer = TokenOfficer(account.username, account.name, frozenset(account.roles), account.agency)
        return _signed_in(request, officer, bearer, time.time() + ttl, next_path)

    @r.get("/auth/callback")
    async def callback(request: Request, code: str = "", state: str = "") -> Response:
        c = console(request)
        if c.oidc is None:
            raise HTTPException(404, "Không dùng cổng định danh.")
        try:
            pending = c.oidc.pending(request.cookies.get(PENDING_COOKIE), state)
            officer, bearer, expires = await c.oidc.finish(code, pending)
        except OidcError as exc:
            raise HTTPException(401, f"Đăng nhập không thành công: {exc}") from exc
        response = _signed_in(request, officer, bearer, expires, safe_next(pending.get("next")))
        response.delete_cookie(PENDING_COOKIE, path="/auth")
        return response

    @r.post("/sign-out")
    async def sign_out(request: Request, session: Poster) -> Response:
        c = console(request)
        c.sessions.close(session)
        response = RedirectResponse("/sign-in", status_code=303)
        c.sessions.clear_cookie(response)
        return response

    return r


def _form(request: Request, next_path: str, username: str = "", error: str = "", status: int = 200) -> Response:
    c = console(request)
    token = secrets.token_urlsafe(32)
    response = render(request, "sign_in.html", status=status, next=next_path, username=username, error=error,
                      login_csrf=token)
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=c.sessions.secure, path="/sign-in")
    return response


def _signed_in(request: Request, officer: TokenOfficer, bearer: str, expires: float | None, next_path: str) -> Response:
    c = console(request)
    session = c.sessions.open(officer, bearer, expires)
    response = RedirectResponse(next_path, status_code=303)
    c.sessions.set_cookie(response, session)
    response.delete_cookie(LOGIN_COOKIE, path="/sign-in")
    return response
