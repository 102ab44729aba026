"""Consumer lag in records: partition end offset − the group's committed offset, refreshed in the background.

Sets `onestop_consumer_lag_messages{service,topic,partition}`; the recording rule
`service:onestop_consumer_lag_seconds:estimate` turns it into seconds (deploy/prometheus/rules)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity
from prometheus_client import Gauge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Group:
    group_id: str
    topics: tuple[str, ...]


def consumer_groups(broker: object) -> list[Group]:
    """The (group, topics) of a FastStream broker's subscribers that consume in a group."""
    groups: list[Group] = []
    for sub in getattr(broker, "subscribers", []):
        group_id = getattr(sub, "group_id", None)
        if group_id:
            topics = getattr(sub, "topics", ()) or ()
            groups.append(Group(str(group_id), tuple(str(getattr(t, "name", t)) for t in topics)))
    return groups


def lag_of(end: dict[TopicPartition, int], committed: dict[TopicPartition, int],
           beginning: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
    """Records not yet consumed per partition; a partition without a commit counts from its first record."""
    return {tp: max(0, last - committed.get(tp, beginning.get(tp, 0))) for tp, last in end.items()}


class ConsumerLagMonitor:
    """Refreshes the lag gauge of one service's consumer groups every `interval` seconds."""

    def __init__(self, bootstrap: str, service: str, groups: Iterable[Group], gauge: Gauge,
                 interval: float = 15.0, security: BaseSecurity | None = None,
                 on_refresh: Callable[[dict[TopicPartition, int]], Awaitable[object]] | None = None) -> None:
        self.bootstrap = bootstrap
        # The service's own principal, translated as libs.messaging.security.client_options does (importing
        # libs.messaging here would be circular: its dead-letter tools use partitions_of below).
        self.options = parse_security(security)
        self.service = service
        self.groups = list(groups)
        self.gauge = gauge
        self.interval = interval
        self.on_refresh = on_refresh  # e.g. the stall watchdog (libs/messaging/watchdog.py)

    async def run(self) -> None:
        while True:
            try:
                lags = await self.refresh()
                if self.on_refresh is not None:
                    await self.on_refresh(lags)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker away: keep the last values, try again next round
                log.warning("consumer lag refresh failed: %s", exc)
            await asyncio.sleep(self.interval)

    async def refresh(self) -> dict[TopicPartition, int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=f"onestop-{self.service}-lag",
                                    **self.options)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                    client_id=f"onestop-{self.service}-lag", **self.options)
        await admin.start()
        try:
            await consumer.start()
            try:
                return await self._refresh(admin, consumer)
            finally:
                await consumer.stop()
        finally:
            await admin.close()

    async def _refresh(self, admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
        result: dict[TopicPartition, int] = {}
        for group in self.groups:
            partitions = await partitions_of(admin, group.topics)
            if not partitions:
                continue
            committed = {
                tp: meta.offset
                for tp, meta in (await admin.list_consumer_group_offsets(group.group_id)).items()
                if meta.offset >= 0
            }
            end = await consumer.end_offsets(partitions)
            uncommitted = [tp for tp in partitions if tp not in committed]
            beginning = await consumer.beginning_offsets(uncommitted) if uncommitted else {}
            for tp, lag in lag_of(end, committed, beginning).items():
                self.gauge.labels(self.service, tp.topic, str(tp.partition)).set(lag)
                result[tp] = lag
        return result


async def partitions_of(admin: AIOKafkaAdminClient, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of the given topics that exist."""
    described = await admin.describe_topics(list(topics))
    return [
        TopicPartition(t["topic"], p["partition"])
        for t in described
        if not t.get("error_code")
        for p in t.get("partitions", [])
    ]
