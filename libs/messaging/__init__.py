"""Kafka wiring shared by the services: broker, outbox + relay, idempotent batch consumer, dead letters."""

from libs.messaging.broker import ensure_topics, make_broker
from libs.messaging.consumer import AfterCommit, BatchHandler, Delivered, EventConsumer, each
from libs.messaging.errors import TransientError, is_transient
from libs.messaging.outbox import Outbox, OutboxRelay, enqueue, envelope_row, outbox_row
from libs.messaging.tables import inbox_table, outbox_table

__all__ = [
    "AfterCommit", "BatchHandler", "Delivered", "EventConsumer", "Outbox", "OutboxRelay", "TransientError", "each",
    "enqueue", "ensure_topics", "envelope_row", "inbox_table", "is_transient", "make_broker", "outbox_row",
    "outbox_table",
]
