"""One stack of four service processes for the whole end-to-end run, with a trace receiver and a Prometheus."""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from deploy.local.dev_ca import CaFiles, ensure
from libs.contracts import topics
from libs.storage.s3 import S3ObjectStore
from libs.storage.settings import DEVELOPMENT_S3_ACCESS_KEY, DEVELOPMENT_S3_SECRET
from tests.conftest import NewDatabase
from tests.support.kafka import find_records, headers_of
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
async def stack(kafka_bootstrap: str, new_database: NewDatabase, otlp: OtlpReceiver,
                s3_endpoint: str) -> AsyncIterator[Stack]:
    """The four services; intake keeps documents in S3Proxy (a bucket of this run) and signs with a development
    CA of this run. When the run ends, the personal data every test posted (`stack.sensitive`) is looked for in
    the logs, the metrics, the spans and the dead letters of this run (issue 15 §3)."""
    run_dir = Path(tempfile.mkdtemp(prefix="onestop-e2e-"))
    urls = {s: await new_database(s) for s in SERVICES}
    telemetry = {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200"}
    stack = Stack(run_dir=run_dir, kafka=kafka_bootstrap, db_urls=urls,
                  extra_env=telemetry | await documents_in_s3(s3_endpoint, run_dir))
    ensure(CaFiles(run_dir / "ca"))  # where intake's certification settings look under ONESTOP_RUN_DIR
    stack.sensitive |= KNOWN_PII
    started_ms = int(time.time() * 1000)
    leaked: dict[str, list[str]] = {}
    try:
        await stack.start_all()
        yield stack
        leaked |= await in_metrics(stack)
    finally:
        stack.stop_all()  # the services flush their last spans as they stop
    leaked |= {f"log {name}": hits for name, hits in stack.logs_containing(stack.sensitive).items()}
    leaked |= in_spans(otlp, stack.sensitive) | await in_dead_letters(stack, started_ms)
    assert not leaked, f"raw personal data outside the events (logs under {run_dir / 'logs'}): {leaked}"


async def documents_in_s3(endpoint: str, run_dir: Path) -> dict[str, str]:
    """Intake's settings for a bucket of its own on the run's S3Proxy (created here, as an operator would)."""
    bucket, spool = f"onestop-e2e-{uuid.uuid4().hex[:12]}", run_dir / "spool"
    store = S3ObjectStore.connect(bucket=bucket, endpoint=endpoint, region="us-east-1",
                                  access_key_id=DEVELOPMENT_S3_ACCESS_KEY, secret_access_key=DEVELOPMENT_S3_SECRET,
                                  spool_dir=spool)
    await store.create_bucket()
    return {"ONESTOP_STORAGE_BACKEND": "s3", "ONESTOP_STORAGE_S3_ENDPOINT": endpoint,
            "ONESTOP_STORAGE_S3_BUCKET": bucket, "ONESTOP_STORAGE_SPOOL_DIR": str(spool)}


async def in_metrics(stack: Stack) -> dict[str, list[str]]:
    found = {}
    async with httpx.AsyncClient(timeout=5) as client:
        for service in SERVICES:
            text = (await client.get(f"{stack.url(service)}/metrics")).text
            if hits := sorted(v for v in stack.sensitive if v in text):
                found[f"metrics {service}"] = hits
    return found


def in_spans(otlp: OtlpReceiver, sensitive: set[str]) -> dict[str, list[str]]:
    """Span names and attributes (a look-up's query string — its code and ID digits — included)."""
    spans = otlp.spans()
    assert spans, "no span reached the receiver: the scan would prove nothing"
    found: dict[str, list[str]] = {}
    for span in spans:
        text = span.text()
        hits = sorted(v for v in sensitive if v in text) + (["id_last4="] if "id_last4=" in text else [])
        if hits:
            found.setdefault(f"span {span.service}:{span.name}", []).extend(hits)
    return found


async def in_dead_letters(stack: Stack, since_ms: int) -> dict[str, list[str]]:
    """This run's dead letters, bodies and headers (the tests park poison records on purpose)."""
    found: dict[str, list[str]] = {}
    for service in SERVICES:
        letters = await find_records(stack.kafka, topics.dlq(service), lambda r: r.timestamp >= since_ms,
                                     timeout=3, at_least=0)
        for r in letters:
            text = (r.value or b"").decode(errors="replace") + " " + " ".join(map(str, headers_of(r).values()))
            if hits := sorted(v for v in stack.sensitive if v in text):
                found.setdefault(f"dead letter {topics.dlq(service)}", []).extend(hits)
    return found


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
