"""Admission control (libs/runtime/admission.py) in front of a slow ASGI app: bounded work, 503 at once past it."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from libs.runtime.admission import Admission, AdmissionMetrics, Limits


def slow_app(gate: asyncio.Event) -> Starlette:
    async def work(_request: Request) -> JSONResponse:
        await gate.wait()
        return JSONResponse({"ok": True}, status_code=201)

    async def alive(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "alive"})

    return Starlette(routes=[Route("/api/v1/dossiers", work, methods=["POST"]),
                             Route("/api/v1/public/lookup", work), Route("/healthz", alive), Route("/metrics", alive)])


def client_for(limits: Limits) -> tuple[httpx.AsyncClient, asyncio.Event, CollectorRegistry]:
    gate, registry = asyncio.Event(), CollectorRegistry()
    app = Admission(slow_app(gate), limits, AdmissionMetrics("svc", registry))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t"), gate, registry


def shed(registry: CollectorRegistry, reason: str) -> float:
    return registry.get_sample_value("onestop_http_shed_total", {"service": "svc", "reason": reason}) or 0.0


async def started(n: int, client: httpx.AsyncClient, path: str = "/api/v1/dossiers"
                  ) -> list[asyncio.Task[httpx.Response]]:
    tasks = [asyncio.create_task(client.post(path) if "dossiers" in path else client.get(path)) for _ in range(n)]
    await asyncio.sleep(0.05)  # let them reach the middleware
    return tasks


async def test_past_the_places_and_the_queue_requests_get_503_with_retry_after_at_once() -> None:
    client, gate, registry = client_for(Limits(max_in_flight=2, queue_max=1, queue_wait=0.3, public_in_flight=1))
    running = await started(3, client)  # two run, one waits in the queue
    refused = await client.post("/api/v1/dossiers")  # the queue is full: refused without waiting for a place
    assert refused.status_code == 503 and not running[2].done()  # answered while the queued one still waits
    assert int(refused.headers["retry-after"]) >= 1 and "busy" in refused.json()["detail"]
    assert shed(registry, "queue_full") == 1
    waited = await running[2]  # the queued one gave up after queue_wait
    assert waited.status_code == 503 and shed(registry, "queue_timeout") == 1
    gate.set()
    assert [(await t).status_code for t in running[:2]] == [201, 201]
    assert (await client.post("/api/v1/dossiers")).status_code == 201  # places free again


async def test_a_queued_request_runs_when_a_place_frees_within_the_wait() -> None:
    client, gate, registry = client_for(Limits(max_in_flight=1, queue_max=4, queue_wait=2.0, public_in_flight=1))
    running = await started(3, client)
    gate.set()
    assert [(await t).status_code for t in running] == [201, 201, 201]
    assert shed(registry, "queue_timeout") == shed(registry, "queue_full") == 0


async def test_health_and_metrics_answer_when_the_service_is_full() -> None:
    client, gate, _ = client_for(Limits(max_in_flight=1, queue_max=0, queue_wait=0.1, public_in_flight=1))
    running = await started(1, client)
    assert (await client.post("/api/v1/dossiers")).status_code == 503
    assert (await client.get("/healthz")).status_code == 200 and (await client.get("/metrics")).status_code == 200
    gate.set()
    await asyncio.gather(*running)


async def test_the_citizen_look_up_is_shed_before_the_desk() -> None:
    client, gate, registry = client_for(Limits(max_in_flight=4, queue_max=4, queue_wait=1.0, public_in_flight=2))
    desk = await started(2, client)  # two desk requests in flight: the public share is used up
    refused = await client.get("/api/v1/public/lookup")
    assert refused.status_code == 503 and shed(registry, "public_shed") == 1
    more_desk = await started(2, client)  # the desk still has places
    gate.set()
    assert [(await t).status_code for t in desk + more_desk] == [201] * 4
    assert (await client.get("/api/v1/public/lookup")).status_code == 201  # and the public, once it is quiet
    assert registry.get_sample_value("onestop_http_in_flight", {"service": "svc"}) == 0
