"""A flood past intake's bound: every request answered within 2 s — the receipt or 503 with Retry-After —
and every accepted dossier downstream exactly once (issue 18). Intake runs with small bounds here, so a few
hundred requests are a flood on any machine."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import httpx
import pytest

from tests.e2e.test_walking_skeleton import dossier, officer_headers, received_count
from tests.support.prometheus import Prometheus
from tests.support.stack import Stack, eventually

pytestmark = pytest.mark.infra
FLOOD = 300
TIGHT = {"ONESTOP_INTAKE_MAX_IN_FLIGHT": "4", "ONESTOP_INTAKE_QUEUE_MAX": "8",
         "ONESTOP_INTAKE_QUEUE_WAIT_SECONDS": "0.5"}


async def test_a_flood_past_the_bound_gets_answers_in_time_and_loses_nothing(stack: Stack,
                                                                             prometheus: Prometheus) -> None:
    stack.kill9("intake")
    stack.start("intake", TIGHT)
    await stack.wait_ready("intake")
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            before = await received_count(client, stack)
            answers = await flood(stack)
            for status in (201, 503):
                times = sorted(t for s, _, _, t in answers if s == status)
                print(f"\n{status}: {len(times)}, median {times[len(times) // 2]:.2f} s, worst {times[-1]:.2f} s")
            assert sorted({s for s, _, _, _ in answers}) == [201, 503]  # some received, the rest told to come back
            late = [round(t, 2) for _, _, _, t in answers if t > 2.0]
            assert not late, f"{len(late)} answers took longer than 2 s: {late[:10]}"
            busy = [body for s, _, body, _ in answers if s == 503]
            retry_after = [int(h) for s, h, _, _ in answers if s == 503]
            assert min(retry_after) >= 1 and all("busy" in body["detail"] for body in busy)
            accepted = [body["code"] for s, _, body, _ in answers if s == 201]
            assert len(set(accepted)) == len(accepted)

            # Downstream: each accepted dossier is counted once, and has one case.
            await eventually(lambda: _count_is(client, stack, before + len(accepted)), timeout=60, interval=1)
            cases = await client.get(f"{stack.url('processing')}/api/v1/cases", headers=officer_headers(),
                                     params={"limit": 1000})
            codes = [c["code"] for c in cases.json()]
            assert all(codes.count(code) == 1 for code in accepted)

            metrics = (await client.get(f"{stack.url('intake')}/metrics")).text
            assert 'onestop_http_shed_total{reason="queue_full",service="intake"}' in metrics
        # The real Prometheus scraped the refusals: what the OnestopShedding alert reads (its rule and `for`
        # are checked by promtool in deploy/prometheus/tests/availability.yml).
        async def scraped() -> bool:
            return await prometheus.scalar('sum(onestop_http_shed_total{service="intake"})') == len(busy)

        await eventually(scraped, timeout=20, interval=1)
    finally:
        stack.kill9("intake")
        stack.start("intake")
        await stack.wait_ready("intake")


async def flood(stack: Stack) -> list[tuple[int, str, dict[str, Any], float]]:
    """FLOOD receipts at once: (status, Retry-After, body, seconds to the answer) each. aiohttp: the client
    shares the two cores with what it floods, and httpx's own CPU per request would be measured as waiting."""
    headers = {**officer_headers(), "Content-Type": "application/json"}
    body = json.dumps(dossier()).encode()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=FLOOD),
                                     timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def one(i: int) -> tuple[int, str, dict[str, Any], float]:
            asked = time.monotonic()
            key = {"Idempotency-Key": f"flood-{stack.group_suffix}-{i}"}
            async with session.post(f"{stack.url('intake')}/api/v1/dossiers", data=body, headers=headers | key) as r:
                return r.status, r.headers.get("Retry-After", ""), await r.json(), time.monotonic() - asked

        return await asyncio.gather(*(one(i) for i in range(FLOOD)))


async def _count_is(client: httpx.AsyncClient, stack: Stack, expected: int) -> bool:
    return await received_count(client, stack) == expected
