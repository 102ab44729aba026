"""Request bodies past a size bound are refused with 413 before they are parsed or buffered whole.

A declared `Content-Length` over the bound is refused before reading a byte; a body without one (chunked)
is counted as it streams in and refused the moment it passes the bound. Written by hand: Starlette and
uvicorn have no body-size setting, and this is a dozen lines of ASGI."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(send, self.max_bytes)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:  # FastAPI re-raises an HTTPException from the body read as it is
                raise HTTPException(413, _reason(self.max_bytes))
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
