"""The FastStream Kafka broker every service uses: idempotent producer, traces and metrics on."""

from __future__ import annotations

import contextlib
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.security import BaseSecurity
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from libs.messaging.security import client_options

log = logging.getLogger(__name__)


def make_broker(
    bootstrap: str, service: str, registry: CollectorRegistry, tracer_provider: TracerProvider,
    security: BaseSecurity | None = None,
) -> KafkaBroker:
    """`security`: the service's own principal and TLS (libs/messaging/security.py); None = PLAINTEXT."""
    return KafkaBroker(
        bootstrap,
        security=security,
        client_id=f"onestop-{service}",
        enable_idempotence=True,  # acks=all, no duplicates from producer retries
        linger_ms=5,
        graceful_timeout=15.0,
        middlewares=(
            KafkaTelemetryMiddleware(tracer_provider=tracer_provider),
            KafkaPrometheusMiddleware(registry=registry, app_name=service),
        ),
        logger=_quiet_logger(service),
    )


async def ensure_topics(bootstrap: str, topics: list[str], partitions: int, replication: int,
                        security: BaseSecurity | None = None) -> None:
    """Create missing topics; existing ones are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="onestop-admin", **client_options(security))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, partitions, replication) for t in topics if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another service created it meanwhile
                await admin.create_topics(missing)
            log.info("created topics %s", [t.name for t in missing])
    finally:
        await admin.close()


def _quiet_logger(service: str) -> logging.Logger:
    """FastStream logs two lines per message at INFO; at our volumes that is most of a core."""
    logger = logging.getLogger(f"onestop.{service}.broker")
    logger.setLevel(logging.WARNING)
    return logger
