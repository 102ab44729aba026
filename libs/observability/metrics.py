"""One Prometheus registry per process, with the pipeline metrics every service shares."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)


class Children:
    """A labelled metric's children, each looked up once: `labels()` takes a lock and builds a tuple on every
    call, which shows on a per-event path."""

    def __init__(self, metric: Any) -> None:
        self._metric = metric
        self._cache: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> Any:
        child = self._cache.get(values)
        if child is None:
            child = self._cache[values] = self._metric.labels(*values)
        return child


class PipelineMetrics:
    """`onestop_*` series about moving events; business metrics live with each service."""

    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.service = service
        self.registry = registry
        self.outbox_pending = Gauge(
            "onestop_outbox_pending", "Outbox rows not yet published", ["service"], registry=registry
        ).labels(service)
        self._published = Children(Counter(
            "onestop_outbox_published", "Outbox rows published, by topic", ["service", "topic"], registry=registry
        ))
        self.outbox_failures = Counter(
            "onestop_outbox_publish_failures", "Relay rounds whose publish failed (their rows go out again)",
            ["service"], registry=registry,
        ).labels(service)
        self.event_lag = Histogram(
            "onestop_event_lag_seconds",
            "Event time to applied by this consumer",
            ["service", "topic"],
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.applied = Counter(
            "onestop_events_applied", "Events applied", ["service", "type"], registry=registry
        )
        self.skipped = Counter(
            "onestop_events_skipped", "Events acknowledged without effect", ["service", "reason"],
            registry=registry,
        )
        self.dead_lettered = Counter(
            "onestop_dlq_messages", "Events sent to this service's dead-letter topic", ["service"],
            registry=registry,
        ).labels(service)
        self.dlq_publish_failures = Counter(
            "onestop_dlq_publish_failures", "Failed attempts to publish a dead letter (retried; the consumer waits)",
            ["service"], registry=registry,
        ).labels(service)
        self.consumer_restarts = Counter(
            "onestop_consumer_restarts", "Consumers restarted by the stall watchdog (records waited, none came)",
            ["service"], registry=registry,
        ).labels(service)
        self.consumer_lag = Gauge(
            "onestop_consumer_lag_messages", "Records behind the partition end",
            ["service", "topic", "partition"], registry=registry,
        )

    def published(self, topic: str) -> Any:
        """The relay's counter for `topic`."""
        return self._published(self.service, topic)


def new_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry
