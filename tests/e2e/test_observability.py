"""Observability of the running stack: one trace per dossier across all four services, JSON logs that carry
trace and dossier but no personal data, and a real Prometheus scraping every service (DESIGN.md §8)."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from libs.auth import issue_token
from libs.contracts import topics
from libs.settings import CommonSettings
from tests.support.otlp import OtlpReceiver, Span
from tests.support.prometheus import Prometheus
from tests.support.stack import SERVICES, Stack, eventually

pytestmark = pytest.mark.infra
WARD = "000.00.12.H55"
CONSUMERS = ("processing", "notifications", "reporting")


def svc(name: str) -> str:
    return f"onestop-{name}"


def new_applicant() -> dict[str, str]:
    """Unique, valid personal data, so the log scan finds only what this test posted."""
    digits = "".join(secrets.choice("0123456789") for _ in range(8))
    return {"full_name": "Trần Văn Quan Sát", "personal_id": f"0011{90 + int(digits[0])}{digits[1:7]}"[:12],
            "phone": f"09{digits}", "email": f"obs-{secrets.token_hex(4)}@example.vn"}


def sensitive(applicant: dict[str, str]) -> set[str]:
    phone = applicant["phone"]
    return {applicant["personal_id"], phone, "+84" + phone[1:], applicant["email"]}


async def post_dossier(client: httpx.AsyncClient, stack: Stack, applicant: dict[str, str],
                       headers: dict[str, str] | None = None) -> dict[str, Any]:
    body = {"procedure_code": "1.001193", "channel": "in_person", "applicant": applicant,
            "documents": [{"name": "Tờ khai đăng ký khai sinh", "digitised": True}], "receiving_agency": WARD}
    token = issue_token("obs-test", ["desk_officer"], WARD, CommonSettings().jwt_secret)
    r = await client.post(f"{stack.url('intake')}/api/v1/dossiers", json=body,
                          headers={"Authorization": f"Bearer {token}", **(headers or {})})
    assert r.status_code == 201, r.text
    return dict(r.json())


# --- traces ------------------------------------------------------------------------------------------------


@dataclass
class Trace:
    trace_id: str
    caller_span: str  # the span id this test put in `traceparent`
    code: str
    spans: list[Span]

    def one(self, **match: str) -> Span:
        found = self.all(**match)
        assert found, f"no span {match}; have {self.summary()}"
        return found[0]

    def all(self, **match: str) -> list[Span]:
        return [s for s in self.spans if all(getattr(s, k) == v for k, v in match.items())]

    def ancestors(self, span: Span) -> list[Span]:
        index = {s.span_id: s for s in self.spans}
        chain: list[Span] = []
        while span.parent_id in index:
            span = index[span.parent_id]
            chain.append(span)
        return chain

    def summary(self) -> list[str]:
        return sorted(f"{s.service}:{s.kind}:{s.name}:{s.span_id}<-{s.parent_id}" for s in self.spans)


def check_trace(t: Trace) -> Trace:
    """Every hop of the dossier's path is a parent → child edge of one trace (raises until complete)."""
    assert {svc(s) for s in SERVICES} <= {s.service for s in t.spans}, t.summary()
    server = t.one(service=svc("intake"), kind="server", parent_id=t.caller_span)
    assert "dossiers" in server.name, server
    # The outbox row carries the context of the span that staged it (ADR 0007: the relay adds no span of its
    # own), so each consumer's span descends from the request that received the dossier.
    consumed = {}
    for name in CONSUMERS:
        hops = [s for s in t.all(service=svc(name), kind="consumer", name=f"{topics.INTAKE} process")
                if server in t.ancestors(s)]
        assert len(hops) == 1, f"{name}: {t.summary()}"
        consumed[name] = hops[0]
    # processing opens the case from inside its consumer span and emits case.opened through its own outbox
    for name in ("notifications", "reporting"):
        hops = [s for s in t.all(service=svc(name), kind="consumer", name=f"{topics.PROCESSING} process")
                if consumed["processing"] in t.ancestors(s)]
        assert hops, f"{name} has no span consuming case events of this trace: {t.summary()}"
    return t


@pytest.fixture(scope="module")
async def traced(stack: Stack, otlp: OtlpReceiver) -> Trace:
    """One dossier posted with a caller's `traceparent`, followed until every hop has reported its span."""
    trace_id, caller = secrets.token_hex(16), secrets.token_hex(8)
    applicant = new_applicant()
    stack.sensitive |= sensitive(applicant)
    async with httpx.AsyncClient(timeout=10) as client:
        body = await post_dossier(client, stack, applicant, {"traceparent": f"00-{trace_id}-{caller}-01"})

    async def complete() -> Trace:
        return check_trace(Trace(trace_id, caller, body["code"], otlp.spans(trace_id)))

    return await eventually(complete, timeout=30, interval=0.5)


async def test_one_trace_covers_the_dossier_in_all_four_services(traced: Trace) -> None:
    services = {s.service for s in traced.spans}
    assert services >= {svc(s) for s in SERVICES}
    assert {s.trace_id for s in traced.spans} == {traced.trace_id}


# --- logs --------------------------------------------------------------------------------------------------


def log_lines(stack: Stack, service: str) -> list[dict[str, Any]]:
    lines = stack.log(service).read_text(encoding="utf-8", errors="replace").splitlines()
    parsed = []
    for line in filter(str.strip, lines):
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"{service}.log has a line that is not JSON: {line[:300]!r}")
    return parsed


async def test_logs_are_json_with_service_trace_and_dossier(stack: Stack, traced: Trace) -> None:
    await asyncio.sleep(0.5)  # the last consumer's "applied" line follows its commit
    for service in SERVICES:
        lines = log_lines(stack, service)
        assert lines and all(line.get("service") == service for line in lines), service
        assert all({"timestamp", "level", "event"} <= line.keys() for line in lines), service
    for service in CONSUMERS:
        about = [line for line in log_lines(stack, service) if line.get("dossier") == traced.code]
        assert about, f"{service} logged nothing about dossier {traced.code}"
        ours = [line for line in about if line.get("trace_id") == traced.trace_id]
        assert ours, f"{service}: lines about {traced.code} carry another trace: {about[:3]}"
        assert all(len(line.get("span_id", "")) == 16 for line in ours), ours


async def test_no_raw_personal_data_reaches_a_log_line(stack: Stack, traced: Trace) -> None:
    # This module's values (the session's own check at teardown covers every test's values).
    assert stack.sensitive, "nothing was posted"
    assert stack.logs_containing(stack.sensitive) == {}


# --- metrics ---------------------------------------------------------------------------------------------


async def _intake_received_direct(stack: Stack) -> float:
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"{stack.url('intake')}/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("onestop_dossiers_received_total{"))


RECEIVED = 'sum(onestop_dossiers_received_total{job="onestop",service="intake"})'


async def test_prometheus_scrapes_every_service(stack: Stack, prometheus: Prometheus) -> None:
    async def all_up() -> bool:
        up = {r["metric"]["service"]: r["value"][1] for r in await prometheus.query('up{job="onestop"}')}
        assert up == {s: "1" for s in SERVICES}, up
        return True

    await eventually(all_up, timeout=30, interval=0.5)

    async def synced() -> float:  # Prometheus has caught up with what intake itself reports
        direct, scraped = await _intake_received_direct(stack), await prometheus.scalar(RECEIVED) or 0.0
        assert scraped == direct, (scraped, direct)
        return scraped + 1  # truthy even at zero

    baseline = await eventually(synced, timeout=15, interval=0.5) - 1
    n = 3
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(n):
            applicant = new_applicant()
            stack.sensitive |= sensitive(applicant)
            await post_dossier(client, stack, applicant)

    async def counted() -> bool:
        value = await prometheus.scalar(RECEIVED)
        assert value == baseline + n, (value, baseline)
        return True

    await eventually(counted, timeout=20, interval=0.5)
    await asyncio.sleep(2.5)  # a couple more scrapes: exactly n, not more
    assert await prometheus.scalar(RECEIVED) == baseline + n

    async def per_service(metric: str) -> set[str]:
        result = await prometheus.query(f'count by (service) ({metric}{{job="onestop"}})')
        found = {r["metric"]["service"] for r in result}
        assert set(CONSUMERS) <= found, (metric, found)
        return found

    await eventually(lambda: per_service("faststream_received_messages_total"), timeout=10, interval=0.5)
    await eventually(lambda: per_service("onestop_consumer_lag_messages"), timeout=10, interval=0.5)

    rules = await prometheus.api("rules")
    assert rules["groups"], "the shipped rules did not load"
    broken = [(r["name"], r.get("lastError")) for g in rules["groups"] for r in g["rules"] if r.get("health") == "err"]
    assert not broken, broken
