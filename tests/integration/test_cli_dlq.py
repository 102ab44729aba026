"""`onestop dlq list / redrive` against the real broker, on a dead-letter topic of its own."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from typer.testing import CliRunner

from libs.contracts import topics
from libs.messaging.broker import ensure_topics
from libs.messaging.dlq import SEALED, Sealer, dead_letter_headers
from onestop.cli import app
from tests.support.kafka import find_records, headers_of, publish_raw

pytestmark = pytest.mark.infra
runner = CliRunner()


@dataclass
class Parked:
    service: str
    source: str
    ids: list[str]


async def _park(bootstrap: str, parked: Parked) -> None:
    await ensure_topics(bootstrap, [parked.source, topics.dlq(parked.service)], 2, 1)
    for n, ce_id in enumerate(parked.ids):
        original = {"ce_specversion": "1.0", "ce_id": ce_id, "ce_type": "vn.onestop.test.v1",
                    "ce_source": "/test", "ce_time": "2026-01-05T01:00:00Z", "ce_subject": f"code-{n}",
                    "content-type": "application/json",
                    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
        record = SimpleNamespace(topic=parked.source, partition=1, offset=40 + n)
        headers = dead_letter_headers(original, parked.service, f"contract: bad #{n} 0912345678",
                                      record.topic, record.partition, record.offset)
        body = f'{{"n": {n}}}'.encode()
        if n == 0:  # sealed, as the consumer parks it now; the other as parked before sealing existed
            body, headers = Sealer().seal(body), {**headers, SEALED: "fernet"}
        await publish_raw(bootstrap, topics.dlq(parked.service), f"key-{n}".encode(), body, headers)


async def _drop(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()


@pytest.fixture
def parked(kafka_bootstrap: str) -> Iterator[Parked]:
    tag = uuid.uuid4().hex[:8]
    p = Parked(f"clitest-{tag}", f"onestop.clitest-{tag}.v1", [str(uuid.uuid4()) for _ in range(2)])
    asyncio.run(_park(kafka_bootstrap, p))
    yield p
    asyncio.run(_drop(kafka_bootstrap, [p.source, topics.dlq(p.service)]))


def cli(bootstrap: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"ONESTOP_KAFKA_BOOTSTRAP": bootstrap})
    return result.exit_code, result.output


def redriven(bootstrap: str, source: str, at_least: int) -> list[dict[str, str]]:
    records = asyncio.run(find_records(bootstrap, source, lambda r: True, at_least=at_least, timeout=15))
    return [{**headers_of(r), "_key": r.key.decode(), "_value": r.value.decode()} for r in records]


def test_list_shows_every_dead_letter_with_its_source(kafka_bootstrap: str, parked: Parked) -> None:
    code, out = cli(kafka_bootstrap, "dlq", "list", parked.service, "--json")
    assert code == 0, out
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [r["ce_id"] for r in rows] == parked.ids
    assert rows[0]["source"] == f"{parked.source}/1/40" and rows[1]["source"] == f"{parked.source}/1/41"
    assert rows[0]["ce_type"] == "vn.onestop.test.v1" and rows[0]["error"].startswith("contract: bad #0")
    assert "0912345678" not in out, "errors are shown masked"

    code, out = cli(kafka_bootstrap, "dlq", "list", parked.service, "--limit", "1")
    assert code == 0 and parked.ids[0] in out and parked.ids[1] not in out


def test_redrive_one_then_all_with_original_headers(kafka_bootstrap: str, parked: Parked) -> None:
    code, out = cli(kafka_bootstrap, "dlq", "redrive", parked.service, "--id", parked.ids[1])
    assert code == 0 and f"re-driven {parked.ids[1]}" in out, out
    [again] = redriven(kafka_bootstrap, parked.source, 1)
    assert again["ce_id"] == parked.ids[1] and again["_key"] == "key-1" and again["_value"] == '{"n": 1}'
    assert again["traceparent"].startswith("00-4bf92f3577b34da6a3ce929d0e0e4736")
    assert not [k for k in again if k.startswith("dlq_")], again

    code, out = cli(kafka_bootstrap, "dlq", "redrive", parked.service, "--all")
    assert code == 0, out
    records = redriven(kafka_bootstrap, parked.source, 3)
    assert sorted(r["ce_id"] for r in records) == sorted([parked.ids[1], *parked.ids])  # the same event again
    sealed = next(r for r in records if r["ce_id"] == parked.ids[0])
    assert sealed["_value"] == '{"n": 0}', "a sealed dead letter goes back opened"


def test_unknown_event_or_service_exits_1(kafka_bootstrap: str, parked: Parked) -> None:
    code, out = cli(kafka_bootstrap, "dlq", "redrive", parked.service, "--id", "no-such-id")
    assert code == 1 and "no dead letter with ce_id no-such-id" in out
    code, out = cli(kafka_bootstrap, "dlq", "list", f"nosuch-{uuid.uuid4().hex[:6]}")
    assert code == 1 and "no dead-letter topic" in out
