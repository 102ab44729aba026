"""One dossier through all four services, over the real broker and real PostgreSQL."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from cloudevents.core.bindings import kafka as ce_kafka

from libs.auth import issue_token
from libs.contracts import topics
from libs.messaging.dlq import Sealer
from libs.settings import CommonSettings
from tests.support.kafka import find_records, headers_of, publish_raw
from tests.support.stack import SERVICES, Stack, eventually

pytestmark = pytest.mark.infra
WARD = "000.00.12.H55"
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def officer_headers(agency: str = WARD) -> dict[str, str]:
    """A ward officer who may receive, follow the case, read notices and reports."""
    roles = ["desk_officer", "specialist", "report_viewer"]
    token = issue_token("e2e-ward", roles, agency, CommonSettings().jwt_secret)
    return {"Authorization": f"Bearer {token}"}


def dossier(procedure: str = "1.001193", channel: str = "in_person") -> dict[str, Any]:
    return {
        "procedure_code": procedure,
        "channel": channel,
        "applicant": {"full_name": "Nguyễn Thị Lan", "personal_id": "019190001234",
                      "phone": "0912345678", "email": "lan@example.vn"},
        "documents": [{"name": "Tờ khai đăng ký khai sinh", "digitised": True}],
        "receiving_agency": WARD,
    }


async def received_count(client: httpx.AsyncClient, stack: Stack) -> int:
    r = await client.get(f"{stack.url('reporting')}/api/v1/reports/form-06", headers=officer_headers(),
                         params={"agency": WARD, "from": "2000-01-01", "to": "2100-01-01"})
    r.raise_for_status()
    return int(r.json()["received"]["received_new"])


async def post(client: httpx.AsyncClient, stack: Stack, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    headers = {**officer_headers(), **({"Idempotency-Key": key} if key else {})}
    return await client.post(f"{stack.url('intake')}/api/v1/dossiers", json=body, headers=headers)


async def case_of(client: httpx.AsyncClient, stack: Stack, code: str) -> dict[str, Any] | None:
    r = await client.get(f"{stack.url('processing')}/api/v1/cases/{code}", headers=officer_headers())
    return r.json() if r.status_code == 200 else None


async def notices_of(client: httpx.AsyncClient, stack: Stack, code: str) -> list[dict[str, Any]]:
    r = await client.get(f"{stack.url('notifications')}/api/v1/notices", params={"dossier": code},
                         headers=officer_headers())
    r.raise_for_status()
    return list(r.json())


async def metric(client: httpx.AsyncClient, stack: Stack, service: str, line_start: str) -> float:
    text = (await client.get(f"{stack.url(service)}/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start))


async def test_one_dossier_reaches_every_service(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        for service in SERVICES:
            assert (await client.get(f"{stack.url(service)}/readyz")).status_code == 200, service
        before = await received_count(client, stack)

        r = await post(client, stack, dossier())
        assert r.status_code == 201, r.text
        code = r.json()["code"]
        assert re.fullmatch(rf"{re.escape(WARD)}-\d{{6}}-\d{{4}}", code)

        await eventually(lambda: _counted(client, stack, before + 1), timeout=10)
        case = await eventually(lambda: case_of(client, stack, code))
        assert case["state"] == 2 and case["state_name"] == "received" and case["receiving_agency"] == WARD
        notices = await eventually(lambda: notices_of(client, stack, code))
        assert {n["channel"] for n in notices} == {"sms", "email"}
        assert all(n["status"] in {"created", "sending", "delivered"} for n in notices)
        assert "0912345678" not in str(notices), "officer view must mask the phone number"

        for service in SERVICES:
            text = (await client.get(f"{stack.url(service)}/metrics")).text
            assert re.search(r"^faststream_\w+\{", text, re.M), f"{service} exposes no FastStream series"
            assert re.search(r"^onestop_\w+", text, re.M), f"{service} exposes no onestop_* series"


async def _counted(client: httpx.AsyncClient, stack: Stack, expected: int) -> bool:
    return await received_count(client, stack) == expected


async def test_same_idempotency_key_creates_one_dossier(stack: Stack) -> None:
    key = str(uuid.uuid4())
    async with httpx.AsyncClient(timeout=10) as client:
        first = await post(client, stack, dossier(channel="post"), key)
        again = await post(client, stack, dossier(channel="post"), key)
        assert first.status_code == 201 and again.status_code == 200
        assert again.headers["Idempotent-Replayed"] == "true"
        assert first.json() == again.json()
        other = await post(client, stack, dossier(channel="in_person"), key)
        assert other.status_code == 422 and "Idempotency-Key" in other.text
        nxt = await post(client, stack, dossier())
        seq = lambda c: int(c.rsplit("-", 1)[1])  # noqa: E731
        assert seq(nxt.json()["code"]) == seq(first.json()["code"]) + 1, "a replay must not use a number"


async def test_events_on_the_wire_are_cloudevents_keyed_and_traced(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        body = (await post(client, stack, dossier())).json()
    # Earlier runs' fresh databases reuse codes on the shared topic; the dossier id is unique.
    records = await find_records(stack.kafka, topics.INTAKE, lambda r: r.key == body["id"].encode())
    assert len(records) == 1
    record = records[0]
    headers = headers_of(record)
    assert TRACEPARENT.match(headers["traceparent"]), headers
    event = ce_kafka.from_binary_event(
        ce_kafka.KafkaMessage(headers={k: v for k, v in record.headers}, key=record.key, value=record.value)
    )
    assert event.get_type() == "vn.onestop.dossier.received.v1"
    assert event.get_subject() == body["code"]
    assert event.get_data()["dossier_id"] == body["id"]  # type: ignore[index]


async def test_redelivered_event_changes_nothing(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        body = (await post(client, stack, dossier())).json()
        await eventually(lambda: case_of(client, stack, body["code"]))
        notices = await eventually(lambda: notices_of(client, stack, body["code"]))
        counted = await received_count(client, stack)
        dup = 'onestop_events_skipped_total{reason="duplicate",service="processing"}'
        dups_before = await metric(client, stack, "processing", dup)

        [record] = await find_records(stack.kafka, topics.INTAKE, lambda r: r.key == body["id"].encode())
        await publish_raw(stack.kafka, topics.INTAKE, record.key, record.value, headers_of(record))

        await eventually(lambda: _grew(client, stack, dup, dups_before))
        assert len(await notices_of(client, stack, body["code"])) == len(notices)
        assert await received_count(client, stack) == counted
        r = await client.get(f"{stack.url('processing')}/api/v1/cases", params={"agency": WARD, "limit": 1000},
                             headers=officer_headers())
        assert [c["code"] for c in r.json()].count(body["code"]) == 1


async def _grew(client: httpx.AsyncClient, stack: Stack, series: str, before: float) -> bool:
    return await metric(client, stack, "processing", series) > before


async def test_poison_event_goes_to_the_dead_letter_topic_and_consumption_goes_on(stack: Stack) -> None:
    poison_id = str(uuid.uuid4())
    headers = {
        "ce_specversion": "1.0", "ce_id": poison_id, "ce_source": "/onestop/intake",
        "ce_type": "vn.onestop.dossier.received.v1", "ce_time": "2026-03-16T02:00:00Z",
        "ce_subject": "POISON", "content-type": "application/json",
    }
    await publish_raw(stack.kafka, topics.INTAKE, b"poison", b'{"dossier_id": "not-a-uuid"}', headers)

    dead = await find_records(stack.kafka, topics.dlq("processing"), lambda r: headers_of(r).get("ce_id") == poison_id,
                              timeout=15)
    assert len(dead) == 1
    dh = headers_of(dead[0])
    assert "violates its contract" in dh["dlq_error"]
    assert dh["dlq_source_topic"] == topics.INTAKE and dh["dlq_source_offset"].isdigit()
    assert dead[0].value != b'{"dossier_id": "not-a-uuid"}', "a dead letter's body is sealed"
    assert Sealer().open(dead[0].value, dh) == b'{"dossier_id": "not-a-uuid"}'

    async with httpx.AsyncClient(timeout=10) as client:
        body = (await post(client, stack, dossier())).json()
        assert await eventually(lambda: case_of(client, stack, body["code"]))
