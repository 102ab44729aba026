"""The four services on the test broker's SASL listener, each as its own SCRAM principal (ADR 0014): a dossier
received at the desk reaches processing, notifications and reporting, and a principal cannot write a topic it
does not own.

The broker is `make test`'s, started with KAFKA_SASL_PORT (deploy/local/kafka/kafka.sh creates the principals
and `python -m onestop.kafka_access` their ACLs); its plaintext listener stays open to the rest of the suite.
This stack has its own ports (base 18500), databases and consumer groups, and stops with this module: the topics
are shared with every other stack on the broker."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from pydantic import SecretStr

from libs.contracts import topics
from libs.messaging.security import client_options, kafka_security
from libs.settings import CommonSettings
from tests.conftest import NewDatabase, reachable
from tests.e2e.test_walking_skeleton import case_of, dossier, notices_of, officer_headers, received_count
from tests.support.kafka import publish_raw, start_groups_at_end
from tests.support.stack import CONSUMES, SERVICES, Stack, eventually

pytestmark = pytest.mark.infra
SASL = os.environ.get("ONESTOP_TEST_KAFKA_SASL", "localhost:19094")  # KAFKA_SASL_PORT of `make test`'s broker
SASL_BASE = int(os.environ.get("ONESTOP_SASL_TEST_BASE_PORT", "18500"))
# The walking skeleton's dossier: none of it may reach a log of this stack either.
KNOWN_PII = {"019190001234", "0912345678", "+84912345678", "lan@example.vn"}


class SaslStack(Stack):
    """The four services on SASL_BASE + 1 … + 4 (the session's e2e stack may be up on 18001–18004)."""

    @staticmethod
    def port(service: str) -> int:
        return SASL_BASE + 1 + SERVICES.index(service)


def principal(service: str) -> CommonSettings:
    """The settings of `service`'s own principal on the SASL listener (development password, see kafka.sh)."""
    return CommonSettings(kafka_bootstrap=SASL, kafka_security_protocol="SASL_PLAINTEXT",
                          kafka_sasl_mechanism="SCRAM-SHA-512", kafka_sasl_username=service,
                          kafka_sasl_password=SecretStr(f"onestop-{service}-dev"))


def principal_env(service: str) -> dict[str, str]:
    """The same, as the environment a service process reads (ONESTOP_KAFKA_*)."""
    common = principal(service)
    assert common.kafka_sasl_password is not None
    return {"ONESTOP_KAFKA_BOOTSTRAP": SASL, "ONESTOP_KAFKA_SECURITY_PROTOCOL": common.kafka_security_protocol,
            "ONESTOP_KAFKA_SASL_MECHANISM": common.kafka_sasl_mechanism,
            "ONESTOP_KAFKA_SASL_USERNAME": service,
            "ONESTOP_KAFKA_SASL_PASSWORD": common.kafka_sasl_password.get_secret_value()}


def sasl_options(service: str) -> dict[str, Any]:
    return client_options(kafka_security(principal(service)))


@pytest.fixture(scope="module")
async def sasl_stack(kafka_bootstrap: str, new_database: NewDatabase) -> AsyncIterator[SaslStack]:
    if not reachable(SASL):
        pytest.fail(f"no SASL listener at {SASL}: the test broker must run with KAFKA_SASL_PORT "
                    "(Makefile TEST_KAFKA; `kafka.sh restart` a broker started without it)")
    run_dir = Path(tempfile.mkdtemp(prefix="onestop-sasl-"))
    stack = SaslStack(run_dir=run_dir, kafka=kafka_bootstrap, db_urls={s: await new_database(f"s{s}")
                                                                       for s in SERVICES})
    stack.sensitive |= KNOWN_PII
    try:
        # Over the plaintext listener (a super user there): this stack's groups start at the topics' end.
        await start_groups_at_end(kafka_bootstrap, {stack.group(s): CONSUMES[s] for s in SERVICES if CONSUMES[s]})
        for service in SERVICES:
            stack.start(service, principal_env(service))
        for service in SERVICES:
            await stack.wait_ready(service)
        yield stack
    finally:
        stack.stop_all()
    leaked = stack.logs_containing(stack.sensitive)
    assert not leaked, f"raw personal data in service logs under {run_dir / 'logs'}: {leaked}"


async def test_a_dossier_goes_through_every_service_over_sasl(sasl_stack: SaslStack) -> None:
    stack = sasl_stack
    async with httpx.AsyncClient(timeout=10) as client:
        before = await received_count(client, stack)
        r = await client.post(f"{stack.url('intake')}/api/v1/dossiers", json=dossier(), headers=officer_headers())
        assert r.status_code == 201, r.text
        code = r.json()["code"]
        # Every service reaches the broker only through the SASL listener, as itself.
        case = await eventually(lambda: case_of(client, stack, code), timeout=20)
        assert case["state_name"] == "received"
        notices = await eventually(lambda: notices_of(client, stack, code), timeout=20)
        assert {n["channel"] for n in notices} == {"sms", "email"}
        await eventually(lambda: _counted(client, stack, before + 1), timeout=20)


async def _counted(client: httpx.AsyncClient, stack: Stack, at_least: int) -> bool:
    # At least: the topics are shared, so a dossier another stack receives meanwhile is counted here too.
    return await received_count(client, stack) >= at_least


async def test_a_principal_cannot_write_a_topic_it_does_not_own(
    sasl_stack: SaslStack, caplog: pytest.LogCaptureFixture
) -> None:
    # notifications reads onestop.intake.v1 (so it sees the topic) but only intake may write it.
    with pytest.raises(TopicAuthorizationFailedError):
        await publish_raw(SASL, topics.INTAKE, b"forged", b"{}", {"ce_type": "forged"},
                          security=sasl_options("notifications"))
    # …and a wrong password is no principal at all (aiokafka logs why it could not bootstrap).
    wrong = principal("intake").model_copy(update={"kafka_sasl_password": SecretStr("guess")})
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await publish_raw(SASL, topics.INTAKE, b"forged", b"{}", {}, security=client_options(kafka_security(wrong)))
    assert "SaslAuthenticationFailed" in caplog.text
