"""Business metrics of notifications, on the runtime's registry."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

SEND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class NoticeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.notices = Counter(
            "onestop_notices",
            "Notices reaching a status, by channel and notice kind (event)",
            ["channel", "event", "status"],
            registry=registry,
        )
        self.send_seconds = Histogram(
            "onestop_notice_send_seconds", "Time one delivery attempt took", ["channel"],
            buckets=SEND_BUCKETS, registry=registry,
        )
        self.retry_queue = Gauge(
            "onestop_notice_retry_queue", "Notices waiting for a retry (temporary_failure)", ["channel"],
            registry=registry,
        )

    def count(self, channel: str, kind: str, status: str) -> None:
        self.notices.labels(channel, kind, status).inc()

    def count_all(self, samples: Iterable[tuple[str, str, str]]) -> None:
        """(channel, kind, status) samples of a unit of work, counted once it committed."""
        for channel, kind, status in samples:
            self.notices.labels(channel, kind, status).inc()
