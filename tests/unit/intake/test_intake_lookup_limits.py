"""The public look-up route under attack: the 10,000 last-4 values of one code cannot be tried by rotating
X-Forwarded-For nor from many addresses; the owner's successful look-ups do not wear the code's limit down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.intake.api import public_router
from services.intake.domain.lookup import PublicStatus
from services.intake.domain.states import DeskState
from services.intake.metrics import intake_metrics
from services.intake.ratelimit import LookupLimits, TokenBuckets, networks

CODE = "000.00.12.H55-260316-0001"
DIGITS = "1234"


class FakeDesk:
    """Only what the route calls: one dossier whose ID ends in 1234."""

    async def lookup(self, code: str, last4: str) -> PublicStatus | None:
        if (code, last4) != (CODE, DIGITS):
            return None
        return PublicStatus(code=code, state=DeskState.RECEIVED, procedure_name="Đăng ký khai sinh",
                            received_at=datetime(2026, 3, 16, 2, tzinfo=UTC), appointment_at=None,
                            next_step="processing", current_step=None, result_ready=False, rated=False,
                            updated_at=None)


def app_with(per_client: int = 5, per_code: int = 3, trusted: str = "") -> FastAPI:
    app = FastAPI()
    app.include_router(public_router())
    app.state.desk = FakeDesk()
    app.state.lookups = intake_metrics(CollectorRegistry()).lookups
    app.state.lookup_limit = LookupLimits(
        clients=TokenBuckets(per_client, 1e-6), codes=TokenBuckets(per_code, 1e-6), trusted=networks(trusted))
    return app




@asynccontextmanager
async def client_from(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        yield client


async def look(client: httpx.AsyncClient, digits: str, code: str = CODE, **headers: str) -> int:
    r = await client.get("/public/lookup", params={"code": code, "id_last4": digits}, headers=headers)
    if r.status_code == 429:
        assert int(r.headers["Retry-After"]) >= 1
    return r.status_code


async def test_rotating_x_forwarded_for_from_an_untrusted_peer_does_not_reset_the_limit() -> None:
    app = app_with(per_client=5, per_code=100)
    async with client_from(app, "203.0.113.7") as c:
        statuses = [await look(c, f"{n:04d}", code=f"{CODE}-{n}", **{"X-Forwarded-For": f"198.51.100.{n}"})
                    for n in range(8)]
    assert statuses == [404] * 5 + [429] * 3


async def test_a_trusted_proxy_passes_on_each_clients_own_address() -> None:
    app = app_with(per_client=2, per_code=100, trusted="10.0.0.0/8")
    async with client_from(app, "10.0.0.2") as proxy:
        first = [await look(proxy, "0000", code=f"a{n}", **{"X-Forwarded-For": "203.0.113.7"}) for n in range(3)]
        other = await look(proxy, "0000", code="b", **{"X-Forwarded-For": "203.0.113.8"})
        spoofed = await look(proxy, "0000", code="c", **{"X-Forwarded-For": "9.9.9.9, 203.0.113.7"})
    assert first == [404, 404, 429] and other == 404
    assert spoofed == 429, "the part the client wrote itself (left of the proxy's entry) is not believed"


async def test_many_addresses_on_one_code_hit_the_per_code_limit_even_with_the_right_digits() -> None:
    app = app_with(per_client=100, per_code=3)
    statuses = []
    for n in range(5):  # a new address for every guess
        async with client_from(app, f"198.51.100.{n}") as c:
            statuses.append(await look(c, f"{9000 + n:04d}"))
    async with client_from(app, "203.0.113.50") as owner:
        owner_status = await look(owner, DIGITS)
    assert statuses == [404, 404, 404, 429, 429]
    assert owner_status == 429, "answering the right digits now would tell the guesser they are right"
    metric = app.state.lookups
    assert metric.labels("intake", "limited")._value.get() == 3
    assert metric.labels("intake", "not_found")._value.get() == 3


async def test_the_owners_successful_look_ups_never_wear_the_code_limit_down() -> None:
    app = app_with(per_client=100, per_code=3)
    async with client_from(app, "203.0.113.50") as owner:
        assert [await look(owner, DIGITS) for _ in range(10)] == [200] * 10
        assert await look(owner, "0000") == 404, "a typo counts…"
        assert [await look(owner, DIGITS) for _ in range(3)] == [200] * 3, "…but leaves the owner in"
    assert len(app.state.lookup_limit.codes) == 1  # only the code with a failure is remembered


@pytest.mark.parametrize("digits", ["123", "12345", "abcd"])
async def test_malformed_digits_are_refused_before_any_limit_is_spent(digits: str) -> None:
    app = app_with(per_client=1, per_code=1)
    async with client_from(app, "203.0.113.7") as c:
        assert await look(c, digits) == 422
        assert await look(c, DIGITS) == 200
