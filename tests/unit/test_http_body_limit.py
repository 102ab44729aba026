"""Bodies past the bound get 413 before the route parses them, declared or streamed (libs/runtime/body_limit.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from libs.runtime.body_limit import BodyLimit

parsed: list[int] = []


class Doc(BaseModel):
    text: str


def app() -> BodyLimit:
    api = FastAPI()

    @api.post("/docs")
    async def take(doc: Doc) -> dict[str, int]:
        parsed.append(len(doc.text))
        return {"length": len(doc.text)}

    return BodyLimit(api, max_bytes=1024)


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app()), base_url="http://t")


async def test_a_declared_length_over_the_bound_is_refused_unread() -> None:
    parsed.clear()
    async with client() as c:
        r = await c.post("/docs", json={"text": "x" * 5000})
    assert r.status_code == 413 and r.json()["detail"] == "request body larger than 1024 bytes"
    assert parsed == []


async def test_a_streamed_body_is_refused_when_it_passes_the_bound() -> None:
    parsed.clear()

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(20):
            yield b"y" * 100
        yield b'"}'

    async with client() as c:
        r = await c.post("/docs", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and parsed == []


async def test_a_body_within_the_bound_goes_through() -> None:
    parsed.clear()
    async with client() as c:
        r = await c.post("/docs", json={"text": "z" * 500})
    assert r.status_code == 200 and r.json() == {"length": 500} and parsed == [500]
