"""Event contracts: one module per topic, CloudEvents binary-mode mapping, topic names."""

from libs.contracts import intake, notifications, processing, topics
from libs.contracts.base import REGISTRY, Event, event_class
from libs.contracts.envelope import ContractError, Envelope, decode, encode, read_envelope

__all__ = [
    "REGISTRY",
    "ContractError",
    "Envelope",
    "Event",
    "decode",
    "encode",
    "event_class",
    "intake",
    "notifications",
    "processing",
    "read_envelope",
    "topics",
]
