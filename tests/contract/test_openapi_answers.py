"""The shared error answers (libs/runtime/answers.py) are the bodies really sent, and a 405 names every method
of its path: fast checks of what test_openapi_schemathesis.py finds the slow way."""

from __future__ import annotations

import asyncio
import json

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import Message

from libs.runtime.admission import AdmissionMetrics, _busy
from libs.runtime.answers import ANSWERS, Busy, Invalid, answers, documents
from libs.runtime.http import _database_unavailable, _invalid_request, _method_not_allowed, _no_connection


def test_a_422_body_is_the_declared_invalid_model() -> None:
    exc = RequestValidationError([{"loc": ("query", "limit"), "type": "less_than_equal", "msg": "too big",
                                   "input": 5000, "ctx": {"le": 1000}}])
    body = json.loads(bytes(asyncio.run(_invalid_request(None, exc)).body))  # type: ignore[arg-type]
    assert Invalid.model_validate(body).model_dump() == {
        "detail": [{"loc": ["query", "limit"], "msg": "too big", "type": "less_than_equal"}]}


def test_every_503_body_is_the_declared_busy_model_with_its_retry_after() -> None:
    dropped = OperationalError("SELECT 1", {}, ConnectionResetError("server closed the connection"))
    metrics = AdmissionMetrics("intake", CollectorRegistry())
    database = asyncio.run(_database_unavailable(None, dropped))  # type: ignore[arg-type]
    pool = asyncio.run(_no_connection(metrics)(None, PoolTimeout("pool")))
    answered = [(r.status_code, dict(r.headers), bytes(r.body)) for r in (database, pool)] + [_shed()]
    for status, headers, body in answered:
        busy = Busy.model_validate(json.loads(body))
        assert (status, busy.retry_after_seconds) == (503, int(headers["retry-after"]))


def _shed() -> tuple[int, dict[str, str], bytes]:
    """What admission control sends when it refuses a request at once."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(_busy(send, 3))
    start, body = sent
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body["body"]


def test_answers_declares_each_code_with_the_shared_model_and_a_route_s_own_reason() -> None:
    declared = answers(401, 404, why={404: "no such case"})
    assert declared[401] == ANSWERS[401] and "WWW-Authenticate" in declared[401]["headers"]
    assert declared[404]["description"] == "no such case" and declared[404]["model"] is ANSWERS[404]["model"]
    assert documents("text/csv", "application/pdf") == {200: {"content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


def test_a_405_names_every_method_of_its_path_as_the_document_does() -> None:
    app = FastAPI()

    @app.get("/things/{thing}")
    async def read(thing: str) -> dict[str, str]:
        return {"thing": thing}

    @app.post("/things/{thing}")  # a second route on the same path: Starlette's own 405 named GET only
    async def change(thing: str) -> dict[str, str]:
        return {"thing": thing}

    app.add_exception_handler(405, _method_not_allowed)
    response = TestClient(app).delete("/things/a")
    assert (response.status_code, response.headers["Allow"]) == (405, "GET, POST")
    assert set(app.openapi()["paths"]["/things/{thing}"]) == {"get", "post"}
