"""HttpSmsGateway against a real local HTTP gateway (tests/support/sms_gateway.py)."""

from __future__ import annotations

import logging

import httpx
import pytest

from services.notifications.adapters import (
    ConsoleSms,
    HttpSmsGateway,
    HttpSmsSettings,
    SmsSettings,
    make_sms_sender,
)
from services.notifications.domain import DeliveryStatus, notice_key, render, sample_context
from tests.support.sms_gateway import SmsGatewayServer
from tests.support.smtp_server import free_port

KEY = notice_key("dossier-1", "event-1", "sms")
TEXT = render("received", "sms", sample_context("received")).text


def gateway_for(server: SmsGatewayServer, timeout: float = 2, **extra: object) -> HttpSmsGateway:
    settings = HttpSmsSettings.model_validate(
        {"url": server.url, "auth_token": "s3cret", "timeout_seconds": timeout, **extra}
    )
    return HttpSmsGateway(settings)


async def test_ok_is_delivered_with_normalised_number(sms_gateway: SmsGatewayServer) -> None:
    gateway = gateway_for(sms_gateway)
    result = await gateway.send("0912 345 678", TEXT, KEY)
    await gateway.aclose()
    assert result.status is DeliveryStatus.DELIVERED, result.reason
    assert result.provider_id == "msg-1"
    [sms] = sms_gateway.messages
    assert (sms.to, sms.text, sms.idempotency_key) == ("+84912345678", TEXT, KEY)
    assert sms.headers["idempotency-key"] == KEY
    assert sms.headers["authorization"] == "Bearer s3cret"


async def test_same_key_twice_is_stored_once(sms_gateway: SmsGatewayServer) -> None:
    gateway = gateway_for(sms_gateway)
    first = await gateway.send("+84912345678", TEXT, KEY)
    second = await gateway.send("84912345678", TEXT, KEY)
    other = await gateway.send("0912345678", TEXT, notice_key("dossier-1", "event-2", "sms"))
    await gateway.aclose()
    assert first.ok and second.ok and other.ok
    assert first.provider_id == second.provider_id != other.provider_id
    assert sms_gateway.stats() == {"requests": 3, "stored": 2, "duplicates": 1}


async def test_4xx_is_permanent_with_reason(sms_gateway: SmsGatewayServer) -> None:
    sms_gateway.program("4xx")
    gateway = gateway_for(sms_gateway)
    result = await gateway.send("0912345678", TEXT, KEY)
    await gateway.aclose()
    assert result.status is DeliveryStatus.PERMANENT_FAILURE
    assert result.reason == "400: invalid destination number"
    assert sms_gateway.messages == []


async def test_429_is_temporary(sms_gateway: SmsGatewayServer) -> None:
    sms_gateway.program("4xx", status=429, body={"status": "error", "error": "slow down"})
    gateway = gateway_for(sms_gateway)
    result = await gateway.send("0912345678", TEXT, KEY)
    await gateway.aclose()
    assert result.status is DeliveryStatus.TEMPORARY_FAILURE and "slow down" in result.reason


async def test_5xx_then_recover(sms_gateway: SmsGatewayServer) -> None:
    sms_gateway.program("5xx", count=2)
    gateway = gateway_for(sms_gateway)
    results = [await gateway.send("0912345678", TEXT, KEY) for _ in range(3)]
    await gateway.aclose()
    assert [r.status for r in results] == [
        DeliveryStatus.TEMPORARY_FAILURE,
        DeliveryStatus.TEMPORARY_FAILURE,
        DeliveryStatus.DELIVERED,
    ]
    assert "503" in results[0].reason
    assert len(sms_gateway.messages) == 1


async def test_timeout_is_temporary(sms_gateway: SmsGatewayServer) -> None:
    sms_gateway.program("hang")
    gateway = gateway_for(sms_gateway, timeout=0.5)
    result = await gateway.send("0912345678", TEXT, KEY)
    after = await gateway.send("0912345678", TEXT, KEY)
    await gateway.aclose()
    assert result.status is DeliveryStatus.TEMPORARY_FAILURE and "timeout" in result.reason
    assert after.ok and len(sms_gateway.messages) == 1


async def test_connection_refused_is_temporary() -> None:
    gateway = HttpSmsGateway(HttpSmsSettings(url=f"http://127.0.0.1:{free_port()}/sms", timeout_seconds=2))
    result = await gateway.send("0912345678", TEXT, KEY)
    await gateway.aclose()
    assert result.status is DeliveryStatus.TEMPORARY_FAILURE and "unreachable" in result.reason


@pytest.mark.parametrize("number", ["12345", "0241 3825 678", "+1 202 555 0100", "09123456789", "abc"])
async def test_invalid_number_is_permanent_and_never_sent(sms_gateway: SmsGatewayServer, number: str) -> None:
    gateway = gateway_for(sms_gateway)
    result = await gateway.send(number, TEXT, KEY)
    await gateway.aclose()
    assert result.status is DeliveryStatus.PERMANENT_FAILURE and "invalid phone number" in result.reason
    assert sms_gateway.stats()["requests"] == 0


async def test_bad_credentials_are_permanent(sms_gateway: SmsGatewayServer) -> None:
    gateway = HttpSmsGateway(HttpSmsSettings.model_validate({"url": sms_gateway.url, "auth_token": "wrong"}))
    result = await gateway.send("0912345678", TEXT, KEY)
    await gateway.aclose()
    assert result.status is DeliveryStatus.PERMANENT_FAILURE and "401" in result.reason


async def test_2xx_without_confirmation_is_temporary(sms_gateway: SmsGatewayServer) -> None:
    gateway = gateway_for(sms_gateway, success_field="result.state", success_value="queued")
    result = await gateway.send("0912345678", TEXT, KEY)
    await gateway.aclose()
    assert result.status is DeliveryStatus.TEMPORARY_FAILURE and "did not confirm" in result.reason


async def test_gateway_inspection_over_http(sms_gateway: SmsGatewayServer) -> None:
    async with httpx.AsyncClient(base_url=sms_gateway.base_url) as client:
        await client.post("/program", json={"mode": "5xx", "count": 1})
        gateway = gateway_for(sms_gateway)
        assert not (await gateway.send("0912345678", TEXT, KEY)).ok
        assert (await gateway.send("0912345678", TEXT, KEY)).ok
        await gateway.aclose()
        assert (await client.get("/stats")).json() == {"requests": 2, "stored": 1, "duplicates": 0}
        assert (await client.get("/messages")).json()[0]["to"] == "+84912345678"


async def test_console_and_factory(caplog: pytest.LogCaptureFixture) -> None:
    console = make_sms_sender(SmsSettings(provider="console"))
    assert isinstance(console, ConsoleSms)
    with caplog.at_level(logging.INFO):
        result = await console.send("0912345678", TEXT, KEY)
    assert result.ok and console.sent == [("+84912345678", TEXT, KEY)]
    assert "+84912***678" in caplog.text and "0912345678" not in caplog.text
    assert (await console.send("123", TEXT, KEY)).status is DeliveryStatus.PERMANENT_FAILURE
    http = make_sms_sender(SmsSettings(provider="http", http=HttpSmsSettings(url="http://127.0.0.1:9/sms")))
    assert isinstance(http, HttpSmsGateway)
    await http.aclose()
