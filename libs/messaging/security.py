"""How every Kafka client of a process authenticates and encrypts, from ONESTOP_KAFKA_* settings (ADR 0014).

Written once: `kafka_security` builds FastStream's security object (what `KafkaBroker(security=…)` takes), and
`client_options` turns it into aiokafka keyword arguments with FastStream's own translation, so the broker and
the plain aiokafka clients (topic admin, lag monitor, dead-letter tools, rebuild) can never disagree."""

from __future__ import annotations

from typing import Any

from aiokafka.helpers import create_ssl_context
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from libs.settings import CommonSettings

_SASL = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}


class KafkaSecurityError(ValueError):
    """The ONESTOP_KAFKA_* settings do not describe a connection (e.g. SASL without a username)."""


def kafka_security(common: CommonSettings) -> BaseSecurity | None:
    """FastStream's security object for these settings; None for PLAINTEXT (no TLS, no authentication)."""
    protocol = common.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    tls = protocol in ("SSL", "SASL_SSL")
    context = _ssl_context(common) if tls else None
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    if not common.kafka_sasl_username or common.kafka_sasl_password is None:
        raise KafkaSecurityError(f"ONESTOP_KAFKA_SECURITY_PROTOCOL={protocol} needs ONESTOP_KAFKA_SASL_USERNAME "
                                 "and ONESTOP_KAFKA_SASL_PASSWORD (the service's own principal)")
    sasl = _SASL[common.kafka_sasl_mechanism]
    return sasl(common.kafka_sasl_username, common.kafka_sasl_password.get_secret_value(),
                ssl_context=context, use_ssl=tls)


def client_options(security: BaseSecurity | None) -> dict[str, Any]:
    """aiokafka keyword arguments (security_protocol, ssl_context, sasl_*) for `security`; {} for PLAINTEXT."""
    return parse_security(security)


def _ssl_context(common: CommonSettings) -> Any:
    """Verifies the broker's certificate and host name against ONESTOP_KAFKA_SSL_CAFILE (else the system CAs)."""
    def path(p: object) -> str | None:
        return str(p) if p else None

    return create_ssl_context(cafile=path(common.kafka_ssl_cafile), certfile=path(common.kafka_ssl_certfile),
                              keyfile=path(common.kafka_ssl_keyfile))
