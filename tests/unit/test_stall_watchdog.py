"""The stall watchdog restarts a consumer only when records wait on it and no batch has come for long enough."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry

from libs.messaging.watchdog import StallWatchdog
from libs.observability import PipelineMetrics


class Consumer:
    def __init__(self, held: set[Any]) -> None:
        self.held, self.last_batch_at, self.restarted = held, 0.0, 0

    async def restart(self) -> None:
        self.restarted += 1
        self.last_batch_at = 1000.0


def watchdog(consumer: Consumer, now: float, metrics: PipelineMetrics) -> StallWatchdog:
    return StallWatchdog("processing", lambda: consumer.last_batch_at, lambda: consumer.held, consumer.restart,
                         metrics.consumer_restarts, stalled_after=60, clock=lambda: now)


async def test_records_waiting_on_its_partitions_and_no_batch_for_long_restart_it() -> None:
    metrics = PipelineMetrics("processing", CollectorRegistry())
    held = Consumer({"p0", "p1"})
    assert await watchdog(held, 30, metrics).check({"p0": 5}) is False  # not long enough
    assert await watchdog(held, 90, metrics).check({"p0": 0, "p1": 0, "p2": 7}) is False  # waits on another's
    assert await watchdog(held, 90, metrics).check({"p0": 0, "p1": 3}) is True
    assert held.restarted == 1 and held.last_batch_at == 1000.0
    assert metrics.consumer_restarts._value.get() == 1  # type: ignore[attr-defined]


async def test_a_consumer_outside_its_group_is_restarted_when_any_record_waits() -> None:
    metrics = PipelineMetrics("processing", CollectorRegistry())
    lost = Consumer(set())  # after a broker kill it never rejoined: it holds no partition
    assert await watchdog(lost, 90, metrics).check({"p0": 0, "p1": 0}) is False  # nothing to do anyway
    assert await watchdog(lost, 90, metrics).check({"p0": 0, "p1": 4}) is True and lost.restarted == 1
