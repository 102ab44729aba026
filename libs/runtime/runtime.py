"""What every service process is made of, built the same way for all four."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from libs.clock import Clock, make_clock
from libs.contracts import REGISTRY, topics
from libs.db import make_engine, make_session_factory, upgrade
from libs.messaging import EventConsumer, OutboxRelay, ensure_topics, make_broker
from libs.messaging.tables import inbox_table, outbox_table
from libs.observability import PipelineMetrics, make_tracer_provider, new_registry
from libs.observability.lag import ConsumerLagMonitor, consumer_groups
from libs.settings import CommonSettings, ServiceSettings

log = logging.getLogger(__name__)
Loop = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class Runtime:
    name: str
    common: CommonSettings
    settings: ServiceSettings
    migrations: Path
    engine: AsyncEngine
    sessions: async_sessionmaker[Any]
    registry: CollectorRegistry
    metrics: PipelineMetrics
    tracer_provider: TracerProvider
    broker: KafkaBroker
    clock: Clock
    produces: str | None
    consumes: list[str]
    outbox: Table | None = None
    inbox: Table | None = None
    relay: OutboxRelay | None = None
    consumer: EventConsumer | None = None
    loops: list[Loop] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def dlq_topic(self) -> str:
        return topics.dlq(self.name)

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    async def start(self) -> None:
        await upgrade(self.engine, self.migrations)
        wanted = [t for t in [self.produces, *self.consumes] if t]
        if self.consumer is not None:
            wanted.append(self.dlq_topic)
        await ensure_topics(
            self.common.kafka_bootstrap, wanted, self.common.topic_partitions, self.common.topic_replication
        )
        await self.broker.start()
        loops = list(self.loops)
        if self.relay is not None and self.settings.relay_enabled:
            loops.append(self.relay.run)
        if self.consumer is not None:
            lag = ConsumerLagMonitor(
                self.common.kafka_bootstrap, self.name, consumer_groups(self.broker), self.metrics.consumer_lag
            )
            loops.append(lag.run)
        self._tasks = [asyncio.create_task(loop(), name=f"{self.name}:{loop.__name__}") for loop in loops]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.broker.stop()
        await self.engine.dispose()
        self.tracer_provider.shutdown()


def build_runtime(
    name: str,
    settings: ServiceSettings,
    metadata: MetaData,
    migrations: Path,
    produces: str | None = None,
    consumes: list[str] | None = None,
    common: CommonSettings | None = None,
) -> Runtime:
    common = common or CommonSettings()
    engine = make_engine(settings.db_url(name, common))
    sessions = make_session_factory(engine)
    registry = new_registry()
    metrics = PipelineMetrics(name, registry)
    tracer_provider = make_tracer_provider(name)
    broker = make_broker(common.kafka_bootstrap, name, registry, tracer_provider)
    rt = Runtime(
        name=name, common=common, settings=settings, migrations=migrations, engine=engine,
        sessions=sessions, registry=registry, metrics=metrics, tracer_provider=tracer_provider,
        broker=broker, clock=make_clock(common.clock, common.clock_file), produces=produces,
        consumes=consumes or [],
    )
    if produces:
        _declare_publishers(broker, produces)
        rt.outbox = metadata.tables.get("outbox")
        if rt.outbox is None:
            raise ValueError(f"{name} produces events but its metadata has no outbox table")
        rt.relay = OutboxRelay(sessions, rt.outbox, broker, metrics, linger_seconds=common.relay_linger_ms / 1000)
    if consumes:
        rt.inbox = metadata.tables.get("inbox")
        if rt.inbox is None:
            raise ValueError(f"{name} consumes events but its metadata has no inbox table")
        rt.consumer = EventConsumer(
            service=name, broker=broker, sessions=sessions, inbox=rt.inbox, metrics=metrics,
            dlq_topic=rt.dlq_topic, after_commit=rt.wake_relay, tracer_provider=tracer_provider,
            fetch_wait_ms=common.consumer_fetch_wait_ms,
        )
    return rt


def _declare_publishers(broker: KafkaBroker, topic: str) -> None:
    """One publisher per event type, so the AsyncAPI document shows what goes out (the relay sends)."""
    for ce_type, cls in sorted(REGISTRY.items()):
        if cls.topic == topic:
            broker.publisher(topic, title=f"{topic}:{ce_type}", schema=cls, description=(cls.__doc__ or "").strip())


def messaging_tables(metadata: MetaData, outbox: bool, inbox: bool) -> None:
    """Place the shared outbox/inbox tables in a service's own metadata."""
    if outbox:
        outbox_table(metadata)
    if inbox:
        inbox_table(metadata)
