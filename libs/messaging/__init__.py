"""Kafka wiring shared by the services: broker, outbox + relay, idempotent consumer, dead letters."""

from libs.messaging.broker import ensure_topics, make_broker
from libs.messaging.consumer import EventConsumer
from libs.messaging.outbox import OutboxRelay, enqueue, envelope_row, outbox_row
from libs.messaging.tables import inbox_table, outbox_table

__all__ = [
    "EventConsumer", "OutboxRelay", "enqueue", "ensure_topics", "envelope_row", "inbox_table", "make_broker",
    "outbox_row", "outbox_table",
]
