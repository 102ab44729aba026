"""One stack of four service processes for the whole end-to-end run, with a trace receiver and a Prometheus."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import NewDatabase
from tests.support.otlp import OtlpReceiver
from tests.support.prometheus import Prometheus
from tests.support.stack import SERVICES, Stack

pytestmark = pytest.mark.infra

# Personal data the walking-skeleton tests post (tests/e2e/test_walking_skeleton.py `dossier()`).
KNOWN_PII = {"019190001234", "0912345678", "+84912345678", "lan@example.vn"}


@pytest.fixture(scope="session")
def otlp() -> Iterator[OtlpReceiver]:
    """Where every service exports its spans (OTLP/HTTP), started before the stack."""
    receiver = OtlpReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture(scope="session")
async def stack(kafka_bootstrap: str, new_database: NewDatabase, otlp: OtlpReceiver) -> AsyncIterator[Stack]:
    run_dir = Path(tempfile.mkdtemp(prefix="onestop-e2e-"))
    urls = {s: await new_database(s) for s in SERVICES}
    telemetry = {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200"}
    stack = Stack(run_dir=run_dir, kafka=kafka_bootstrap, db_urls=urls, extra_env=telemetry)
    stack.sensitive |= KNOWN_PII
    try:
        await stack.start_all()
        yield stack
    finally:
        stack.stop_all()
    leaked = stack.logs_containing(stack.sensitive)
    assert not leaked, f"raw personal data in service logs under {run_dir / 'logs'}: {leaked}"


@pytest.fixture(scope="session")
async def prometheus(stack: Stack) -> AsyncIterator[Prometheus]:
    """Debian's Prometheus scraping the four services every second (job `onestop`, label `service`)."""
    prom = Prometheus(Path(tempfile.mkdtemp(prefix="onestop-prom-")), {s: stack.port(s) for s in SERVICES})
    prom.launch()
    await prom.wait_ready()
    try:
        yield prom
    finally:
        prom.stop()
