"""Which failures are transient (retry, never dead-letter)."""

from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


class TransientError(Exception):
    """Raised by a service for a failure that is nobody's fault and passes (e.g. a row another consumer
    created meanwhile): the consumer rolls back and retries the batch, never dead-letters it."""


_TRANSIENT = (
    TransientError,
    OperationalError,
    InterfaceError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
    KafkaConnectionError,
    KafkaTimeoutError,
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, _TRANSIENT)
