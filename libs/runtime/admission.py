"""Admission control: a service takes on only the HTTP work it can answer in time, and says "later" at once.

Without a bound, a burst past what the machine can do queues every request behind every other (a thousand
receipts posted at once each took 2–15 s). With one, at most `max_in_flight` requests run; up to
`queue_max` more wait at most `queue_wait` for a place; anyone else gets 503 with `Retry-After` straight
away. Citizens' look-ups (`/api/v1/public/…`) are shed first: they run only while fewer than
`public_in_flight` requests are in flight and never queue, so the desk keeps its places.
Health, readiness and metrics are never refused: the operators must see a service that is shedding.

Written by hand: the ASGI limiters on PyPI bound rate (requests per window), not concurrency with a
short queue and priorities, which is what keeps answer times bounded here."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from starlette.types import ASGIApp, Receive, Scope, Send

from libs.observability import Children

NEVER_REFUSED = frozenset({"/healthz", "/readyz", "/metrics"})
PUBLIC_PREFIX = "/api/v1/public"


@dataclass(frozen=True)
class Limits:
    max_in_flight: int = 8
    queue_max: int = 16
    queue_wait: float = 0.5  # seconds a request may wait for a place
    public_in_flight: int = 4


class AdmissionMetrics:
    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.shed = Children(Counter(
            "onestop_http_shed", "HTTP requests refused with 503 because the service was at its bound",
            ["service", "reason"], registry=registry,
        ))
        self.in_flight = Gauge("onestop_http_in_flight", "HTTP requests being served", ["service"],
                               registry=registry).labels(service)
        self.service = service


class Admission:
    """ASGI middleware bounding requests in flight, with a short queue and the public look-up shed first."""

    def __init__(self, app: ASGIApp, limits: Limits, metrics: AdmissionMetrics) -> None:
        self.app, self.limits, self.metrics = app, limits, metrics
        self._places = asyncio.Semaphore(limits.max_in_flight)
        self._in_flight = 0
        self._waiting = 0
        self._seconds_per_request = 0.05  # moving average of service time, for Retry-After

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path or path in NEVER_REFUSED:
            await self.app(scope, receive, send)
            return
        reason = await self._admit(path.startswith(PUBLIC_PREFIX))
        if reason is not None:
            self.metrics.shed(self.metrics.service, reason).inc()
            await _busy(send, self._retry_after())
            return
        started = time.monotonic()
        self._in_flight += 1
        self.metrics.in_flight.set(self._in_flight)
        try:
            await self.app(scope, receive, send)
        finally:
            self._in_flight -= 1
            self.metrics.in_flight.set(self._in_flight)
            self._places.release()
            self._seconds_per_request += 0.05 * (time.monotonic() - started - self._seconds_per_request)

    async def _admit(self, public: bool) -> str | None:
        """None once a place is held; else why the request is refused."""
        if public:
            if self._in_flight >= self.limits.public_in_flight or self._waiting or self._places.locked():
                return "public_shed"
            await self._places.acquire()  # free: not locked, and nothing waits before us
            return None
        if not self._places.locked() and not self._waiting:
            await self._places.acquire()
            return None
        if self._waiting >= self.limits.queue_max:
            return "queue_full"
        self._waiting += 1
        try:
            await asyncio.wait_for(self._places.acquire(), self.limits.queue_wait)
            return None
        except TimeoutError:
            return "queue_timeout"
        finally:
            self._waiting -= 1

    def _retry_after(self) -> int:
        """Seconds until the work ahead is likely done: the queue over the places, at the recent pace."""
        ahead = self._waiting + self._in_flight
        return max(1, math.ceil(ahead * self._seconds_per_request / self.limits.max_in_flight))


async def _busy(send: Send, retry_after: int) -> None:
    body = (b'{"detail":"the service is busy, please try again in ' + str(retry_after).encode()
            + b' s","retry_after_seconds":' + str(retry_after).encode() + b"}")
    headers: list[Any] = [(b"content-type", b"application/json"), (b"retry-after", str(retry_after).encode()),
                          (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})
