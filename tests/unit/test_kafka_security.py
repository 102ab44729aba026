"""Kafka's TLS and principal come from ONESTOP_KAFKA_* (libs/messaging/security.py), the same for FastStream and
for plain aiokafka; outside development a connection without TLS refuses to start; each service's principal
writes only the topics it owns (onestop/kafka_access.py, ADR 0014)."""

from __future__ import annotations

import ssl
from pathlib import Path

import certifi
import pytest
from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from pydantic import SecretStr

from libs.contracts import topics
from libs.messaging.security import KafkaSecurityError, client_options, kafka_security
from libs.runtime.runtime import UnsafeSettings, build_runtime
from libs.settings import CommonSettings, ServiceSettings
from onestop.kafka_access import all_access
from onestop.registry import NAMES
from tests.support.stack import CONSUMES

CA = Path(certifi.where())  # any PEM bundle will do as "the broker's CA"


def sasl(protocol: str, mechanism: str = "SCRAM-SHA-512", **extra: object) -> CommonSettings:
    return CommonSettings(kafka_security_protocol=protocol, kafka_sasl_mechanism=mechanism,
                          kafka_sasl_username="intake", kafka_sasl_password=SecretStr("pw"), **extra)


def test_plaintext_is_no_security_object_and_no_client_options() -> None:
    assert kafka_security(CommonSettings()) is None
    assert client_options(None) == {}


def test_sasl_ssl_scram_verifies_the_broker_against_the_configured_ca() -> None:
    security = kafka_security(sasl("SASL_SSL", kafka_ssl_cafile=CA))
    assert isinstance(security, SASLScram512) and security.use_ssl
    options = client_options(security)
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("intake", "pw")
    context: ssl.SSLContext = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_each_mechanism_and_tls_alone() -> None:
    assert isinstance(kafka_security(sasl("SASL_PLAINTEXT", "SCRAM-SHA-256")), SASLScram256)
    assert client_options(kafka_security(sasl("SASL_PLAINTEXT", "PLAIN")))["sasl_mechanism"] == "PLAIN"
    assert client_options(kafka_security(sasl("SASL_PLAINTEXT")))["ssl_context"] is None
    tls = kafka_security(CommonSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=CA))
    assert type(tls) is BaseSecurity and client_options(tls)["security_protocol"] == "SSL"


def test_sasl_without_a_principal_is_refused_with_the_setting_to_give() -> None:
    with pytest.raises(KafkaSecurityError, match="ONESTOP_KAFKA_SASL_USERNAME"):
        kafka_security(CommonSettings(kafka_security_protocol="SASL_SSL"))


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SASL_PLAINTEXT"])
def test_production_refuses_kafka_without_tls(protocol: str, tmp_path: Path) -> None:
    common = CommonSettings(environment="production", run_dir=tmp_path, kafka_security_protocol=protocol)
    assert any(f"ONESTOP_KAFKA_SECURITY_PROTOCOL={protocol}" in p for p in common.unsafe_outside_development())
    with pytest.raises(UnsafeSettings, match=f"ONESTOP_KAFKA_SECURITY_PROTOCOL={protocol} .*without TLS"):
        build_runtime("processing", ServiceSettings(), tmp_path, common)


def test_production_accepts_tls_and_development_accepts_plaintext() -> None:
    for protocol in ("SASL_SSL", "SSL"):
        common = CommonSettings(environment="production", kafka_security_protocol=protocol)
        assert not [p for p in common.unsafe_outside_development() if "KAFKA" in p]
    assert not [p for p in CommonSettings().unsafe_outside_development() if "KAFKA" in p]


def test_each_topic_is_written_by_its_owner_only_and_read_by_its_consumers() -> None:
    accesses = {a.service: a for a in all_access()}
    assert accesses.keys() == set(NAMES)
    owners = {topics.INTAKE: "intake", topics.PROCESSING: "processing", topics.NOTIFICATIONS: "notifications"}
    for service, acc in accesses.items():
        owned = {t for t, owner in owners.items() if owner == service}
        assert set(acc.writes) == owned | {topics.dlq(service)}, service
        assert set(acc.reads) == set(CONSUMES[service]), service
        assert not set(acc.writes) & set(acc.reads), service
        prefixed = [g for g in acc.grants() if g.resource == "group"]
        assert [(g.name, g.pattern) for g in prefixed] == [(f"onestop-{service}", "prefixed")]
