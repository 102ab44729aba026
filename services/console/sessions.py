"""Sign-in sessions, the console's only state: kept in memory, named by a signed cookie, each with its CSRF token.

A restart signs everyone out, which a desk can live with; several console processes would need a shared store."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from libs.auth import Officer

COOKIE = "onestop_session"
LOGIN_COOKIE = "onestop_login"  # the CSRF token of the sign-in form (double submit: cookie = field)


@dataclass
class Session:
    id: str
    officer: Officer
    token: str  # the bearer token forwarded to the services
    expires_at: float
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))


class SessionStore:
    def __init__(self, secret: str, ttl_seconds: int, secure: bool, now: Callable[[], float] = time.time) -> None:
        self._sessions: dict[str, Session] = {}
        self._signer = URLSafeTimedSerializer(secret, salt="onestop-console-session")
        self.ttl, self.secure, self.now = ttl_seconds, secure, now

    def open(self, officer: Officer, token: str, token_expires_at: float | None = None) -> Session:
        expires = self.now() + self.ttl
        session = Session(secrets.token_urlsafe(32), officer, token, min(expires, token_expires_at or expires))
        self._sessions[session.id] = session
        self._sweep()
        return session

    def find(self, request: Request) -> Session | None:
        """The live session the request's cookie names; an expired one is dropped."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            sid = self._signer.loads(raw, max_age=self.ttl)
        except BadSignature:
            return None
        session = self._sessions.get(str(sid))
        if session is None or session.expires_at <= self.now():
            self._sessions.pop(str(sid), None)
            return None
        return session

    def close(self, session: Session) -> None:
        self._sessions.pop(session.id, None)

    def set_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(COOKIE, self._signer.dumps(session.id), max_age=self.ttl, httponly=True,
                            samesite="lax", secure=self.secure, path="/")

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure)

    def _sweep(self) -> None:
        now = self.now()
        for sid in [s.id for s in self._sessions.values() if s.expires_at <= now]:
            del self._sessions[sid]


def same_token(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


async def check_csrf(request: Request, expected: str) -> None:
    """403 unless the form field `csrf_token` (or htmx's X-CSRF-Token header) carries the session's token."""
    given = request.headers.get("X-CSRF-Token")
    if given is None:
        form = await request.form()
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    if not same_token(expected, given):
        raise HTTPException(403, "Thiếu hoặc sai mã bảo vệ biểu mẫu (CSRF). Hãy tải lại trang và thử lại.")
