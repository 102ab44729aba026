"""Request bodies past a size bound are refused with 413 before they are parsed or buffered whole.

A declared `Content-Length` over the bound is refused before reading a byte; a body without one (chunked)
is counted as it streams in and refused the moment it passes the bound. Written by hand: Starlette and
uvicorn have no body-size setting, and this is a dozen lines of ASGI.

One route may need more: a service names it with `allow(app, method, path, max_bytes)` (intake's scan uploads,
which stream their body to the document store under their own limit). The allowance is per method and path,
kept on the app's state so the service that owns the route declares it where it wires the route."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOWANCES = "body_allowances"  # the app.state attribute `allow` fills


@dataclass(frozen=True)
class Allowance:
    method: str
    path: re.Pattern[str]  # matched against the whole request path
    max_bytes: int


def allow(app: Any, method: str, path: str, max_bytes: int) -> None:
    """Let requests `method` to a path matching `path` (a regular expression, whole path) carry `max_bytes`."""
    earlier = getattr(app.state, ALLOWANCES, ())
    setattr(app.state, ALLOWANCES, (*earlier, Allowance(method.upper(), re.compile(path), max_bytes)))


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    def bound(self, scope: Scope) -> int:
        """The route's allowance if the app declared one for this method and path, else the suite's bound."""
        state = getattr(scope.get("app"), "state", None)  # Starlette puts itself in the scope
        for allowance in getattr(state, ALLOWANCES, ()):
            if scope.get("method") == allowance.method and allowance.path.fullmatch(scope.get("path", "")):
                return int(allowance.max_bytes)
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.bound(scope)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await _too_large(send, max_bytes)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > max_bytes:  # FastAPI re-raises an HTTPException from the body read as it is
                raise HTTPException(413, _reason(max_bytes))
            return message

        await self.app(scope, counted, send)


def _reason(max_bytes: int) -> str:
    return f"request body larger than {max_bytes} bytes"


async def _too_large(send: Send, max_bytes: int) -> None:
    body = b'{"detail":"' + _reason(max_bytes).encode() + b'"}'
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
