"""Bad input at the desk gets a 4xx with a reason, one test per kind, and leaves nothing half-written:
no dossier row, no outbox event, no dossier number used up. (Workflow refusals — illegal transition,
wrong agency, nothing changed — are in test_workflow.py.)"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.test_walking_skeleton import WARD, dossier, officer_headers
from tests.support.stack import Stack

pytestmark = pytest.mark.infra


async def footprint(stack: Stack) -> tuple[int, int, int]:
    """(dossiers, outbox rows, numbers given today at the ward) in intake's own database."""
    conn = await asyncpg.connect(stack.db_urls["intake"].replace("+asyncpg", ""))
    try:
        dossiers = await conn.fetchval("SELECT count(*) FROM dossiers")
        outbox = await conn.fetchval("SELECT count(*) FROM outbox")
        numbers = await conn.fetchval("SELECT coalesce(sum(last), 0) FROM daily_sequences WHERE agency = $1", WARD)
        return int(dossiers), int(outbox), int(numbers)
    finally:
        await conn.close()


async def refused(stack: Stack, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(f"{stack.url('intake')}/api/v1/dossiers", json=body,
                                 headers=headers or officer_headers())


def with_applicant(**fields: str) -> dict[str, Any]:
    body = dossier()
    body["applicant"] = {**body["applicant"], **fields}
    return body


@pytest.mark.parametrize(
    "label, body, status, reason",
    [
        ("unknown procedure", {**dossier(), "procedure_code": "9.999999"}, 422, "unknown procedure '9.999999'"),
        ("personal ID of 11 digits", with_applicant(personal_id="01919000123"), 422, "personal ID"),
        ("personal ID of an unissued province", with_applicant(personal_id="999190001234"), 422, "province"),
        ("landline instead of a mobile", with_applicant(phone="02083851234"), 422, "mobile"),
        ("phone of letters", with_applicant(phone="090abc1234"), 422, "phone"),
        ("unknown channel", {**dossier(), "channel": "fax"}, 422, "in_person"),
    ],
)
async def test_bad_receipts_get_a_reason_and_leave_no_trace(
    stack: Stack, label: str, body: dict[str, Any], status: int, reason: str
) -> None:
    before = await footprint(stack)
    r = await refused(stack, body)
    assert r.status_code == status, (label, r.status_code, r.text)
    assert reason in r.text, (label, r.text)
    assert await footprint(stack) == before, f"{label}: something was written"


async def test_receiving_for_another_agency_is_forbidden_and_leaves_no_trace(stack: Stack) -> None:
    before = await footprint(stack)
    r = await refused(stack, {**dossier(), "receiving_agency": "000.00.13.H55"})
    assert r.status_code == 403 and "agency" in r.text
    assert await footprint(stack) == before


async def test_without_a_token_nothing_is_received(stack: Stack) -> None:
    before = await footprint(stack)
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{stack.url('intake')}/api/v1/dossiers", json=dossier())
    assert r.status_code == 401
    assert await footprint(stack) == before


@pytest.mark.parametrize(("service", "path", "params"), [
    ("reporting", "/api/v1/reports/form-06", {"agency": WARD, "from": "0", "to": "2026-12-31"}),
    ("reporting", "/api/v1/reports/form-06", {"agency": WARD, "from": "2026-01-01", "to": "2026-12-31", "as_of": "0"}),
    ("processing", "/api/v1/cases", {"due_before": "1781078400"}),
    ("intake", "/api/v1/tracking-book", {"from": "0", "to": "2026-12-31"}),
])
async def test_a_number_is_no_date_in_a_query(stack: Stack, service: str, path: str, params: dict[str, str]) -> None:
    """pydantic would read 0 as 1970-01-01 (Unix time); a date in a request is ISO 8601 text only (issue 15)."""
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(f"{stack.url(service)}{path}", params=params, headers=officer_headers())
    assert r.status_code == 422, r.text
    assert "ISO 8601" in r.text
