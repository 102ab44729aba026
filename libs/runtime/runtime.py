"""What every service process is made of, built the same way for all four.

`build_runtime` makes the parts every process has (settings, database, metrics, traces, broker, clock);
a service's `app.py` then adds, explicitly, what it has of the rest: an outbox (`rt.producing`), a consumer
with its batch handler (`rt.consuming`), background loops (`rt.loops`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from libs.clock import Clock, make_clock
from libs.contracts import REGISTRY, Event, topics
from libs.db import make_engine, make_session_factory, upgrade
from libs.messaging import (
    AfterCommit,
    BatchHandler,
    EventConsumer,
    Outbox,
    OutboxRelay,
    ensure_topics,
    make_broker,
)
from libs.messaging.dlq import Sealer
from libs.messaging.security import kafka_security
from libs.messaging.tables import inbox_table, outbox_table
from libs.messaging.watchdog import StallWatchdog
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
    loops: list[Loop] = field(default_factory=list)  # background work started with the process
    topics: list[str] = field(default_factory=list)  # created at start when missing
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def dlq_topic(self) -> str:
        return topics.dlq(self.name)

    @property
    def group_id(self) -> str:
        """The consumer group: `onestop-<service>` unless ONESTOP_<SERVICE>_CONSUMER_GROUP says otherwise."""
        return self.settings.group(self.name)

    def producing(self, topic: str, table: Table) -> Outbox:
        """This service owns `topic`: its units of work stage events in `table`, a relay publishes them."""
        _declare_publishers(self.broker, topic)
        relay = OutboxRelay(self.sessions, table, self.broker, self.metrics,
                            linger_seconds=self.common.relay_linger_ms / 1000)
        if self.settings.relay_enabled:
            self.loops.append(relay.run)
        self.topics.append(topic)
        return Outbox(table, relay)

    def consuming(
        self, topic_names: Iterable[str], inbox: Table, events: Iterable[type[Event]], handler: BatchHandler,
        after_commit: AfterCommit = lambda: None, group_id: str | None = None,
    ) -> EventConsumer:
        """Consume `topic_names` in the service's group: `events` go to `handler` a batch at a time, each
        batch's ids claimed in `inbox` in the same transaction; `after_commit` runs after each batch commits."""
        topic_names = list(topic_names)
        consumer = EventConsumer(
            service=self.name, broker=self.broker, sessions=self.sessions, inbox=inbox, metrics=self.metrics,
            dlq_topic=self.dlq_topic, after_commit=after_commit, tracer_provider=self.tracer_provider,
            fetch_wait_ms=self.common.consumer_fetch_wait_ms, sealer=Sealer(self.common.dlq_key.get_secret_value()),
        )
        consumer.handle(events, handler)
        consumer.subscribe(topic_names, group_id or self.group_id)
        self.topics += [*topic_names, self.dlq_topic]
        watchdog = StallWatchdog(self.name, lambda: consumer.last_batch_at, consumer.assigned, consumer.restart,
                                 self.metrics.consumer_restarts, stalled_after=self.common.consumer_stall_seconds)
        lag = ConsumerLagMonitor(
            self.common.kafka_bootstrap, self.name, consumer_groups(self.broker), self.metrics.consumer_lag,
            security=kafka_security(self.common), on_refresh=watchdog.check,
        )
        self.loops.append(lag.run)
        return consumer

    async def start(self) -> None:
        await upgrade(self.engine, self.migrations)
        await ensure_topics(self.common.kafka_bootstrap, list(dict.fromkeys(self.topics)),
                            self.common.topic_partitions, self.common.topic_replication,
                            security=kafka_security(self.common))
        await self.broker.start()
        self._tasks = [asyncio.create_task(loop(), name=f"{self.name}:{loop.__name__}") for loop in self.loops]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.broker.stop()
        await self.engine.dispose()
        self.tracer_provider.shutdown()


def build_runtime(
    name: str, settings: ServiceSettings, migrations: Path, common: CommonSettings | None = None
) -> Runtime:
    common = common or CommonSettings()
    if problems := common.unsafe_outside_development():
        raise UnsafeSettings(name, common.environment, problems)
    engine = make_engine(settings.db_url(name, common), pool_timeout=settings.db_pool_timeout_seconds)
    registry = new_registry()
    tracer_provider = make_tracer_provider(name)
    broker = make_broker(common.kafka_bootstrap, name, registry, tracer_provider, security=kafka_security(common))
    return Runtime(
        name=name, common=common, settings=settings, migrations=migrations, engine=engine,
        sessions=make_session_factory(engine), registry=registry, metrics=PipelineMetrics(name, registry),
        tracer_provider=tracer_provider, broker=broker,
        clock=make_clock(common.clock, common.clock_file),
    )


class UnsafeSettings(RuntimeError):
    """Settings fit for development only, outside development: the service does not start."""

    def __init__(self, service: str, environment: str, problems: list[str]) -> None:
        super().__init__(f"{service} refuses to start in {environment} (ONESTOP_ENVIRONMENT): " + "; ".join(problems))


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
