"""Kafka wiring shared by the services: broker, outbox + relay, idempotent consumer, dead letters."""

from libs.messaging.broker import ensure_topics, make_broker
from libs.messaging.consumer import EventConsumer
from libs.messaging.outbox import OutboxRelay, enqueue
from libs.messaging.tables import inbox_table, outbox_table

__all__ = ["EventConsumer", "OutboxRelay", "enqueue", "ensure_topics", "inbox_table", "make_broker", "outbox_table"]
