"""Dossier code on log lines: found in request paths and queries, bound for one request only."""

from __future__ import annotations

import httpx
import pytest
import structlog
from fastapi import FastAPI

from libs.observability import DossierLogContext, log_context
from libs.observability.context import dossier_in

CODE = "000.00.12.H55-260105-0001"


@pytest.mark.parametrize(
    ("path", "query", "found"),
    [
        (f"/api/v1/dossiers/{CODE}", "", CODE),
        (f"/api/v1/dossiers/{CODE}/slips/01", "", CODE),
        ("/api/v1/public/lookup", f"code={CODE.replace('.', '%2E')}&id_last4=1234", CODE),
        ("/api/v1/notices", "dossier=000.00.12.h55-260105-12345", "000.00.12.H55-260105-12345"),
        ("/api/v1/dossiers", "", None),
        ("/api/v1/cases", "agency=000.00.12.H55&due_before=2026-01-05", None),
    ],
)
def test_dossier_code_is_found_in_path_or_query(path: str, query: str, found: str | None) -> None:
    assert dossier_in(path, query) == found


def test_log_context_binds_only_given_values_and_restores() -> None:
    with log_context(dossier="A", event_id=None):
        assert structlog.contextvars.get_contextvars() == {"dossier": "A"}
        with log_context(dossier="B"):
            assert structlog.contextvars.get_contextvars()["dossier"] == "B"
        assert structlog.contextvars.get_contextvars()["dossier"] == "A"
    assert "dossier" not in structlog.contextvars.get_contextvars()


async def test_middleware_binds_the_dossier_for_the_request() -> None:
    app = FastAPI()
    app.add_middleware(DossierLogContext)

    @app.get("/api/v1/dossiers/{code}")
    async def show(code: str) -> dict[str, object]:
        return dict(structlog.contextvars.get_contextvars())

    @app.get("/api/v1/dossiers")
    async def index() -> dict[str, object]:
        return dict(structlog.contextvars.get_contextvars())

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get(f"/api/v1/dossiers/{CODE}")).json() == {"dossier": CODE}
        assert (await client.get("/api/v1/dossiers")).json() == {}
    assert "dossier" not in structlog.contextvars.get_contextvars()
