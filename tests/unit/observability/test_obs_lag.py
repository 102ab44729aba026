"""Consumer lag arithmetic and where the monitor finds the groups."""

from __future__ import annotations

from types import SimpleNamespace

from aiokafka import TopicPartition
from faststream.kafka import KafkaBroker

from libs.observability.lag import Group, consumer_groups, lag_of

A0, A1, B0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)


def test_lag_is_end_minus_committed_or_minus_first_record_without_commit() -> None:
    end = {A0: 10, A1: 7, B0: 5}
    assert lag_of(end, committed={A0: 4, A1: 7}, beginning={B0: 2}) == {A0: 6, A1: 0, B0: 3}


def test_lag_is_never_negative() -> None:
    assert lag_of({A0: 3}, committed={A0: 5}, beginning={}) == {A0: 0}


def test_groups_come_from_the_subscribers_with_a_group() -> None:
    broker = SimpleNamespace(subscribers=[
        SimpleNamespace(group_id="onestop-reporting", topics=["onestop.intake.v1", "onestop.processing.v1"]),
        SimpleNamespace(group_id=None, topics=["x"]),
    ])
    assert consumer_groups(broker) == [Group("onestop-reporting", ("onestop.intake.v1", "onestop.processing.v1"))]


def test_groups_of_a_faststream_broker() -> None:
    broker = KafkaBroker("localhost:9092")  # never connected

    @broker.subscriber("onestop.intake.v1", "onestop.processing.v1", group_id="onestop-reporting")
    async def handle(body: bytes) -> None: ...

    assert consumer_groups(broker) == [Group("onestop-reporting", ("onestop.intake.v1", "onestop.processing.v1"))]
