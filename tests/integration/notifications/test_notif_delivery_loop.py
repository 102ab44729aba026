"""The delivery loop on PostgreSQL against a real SMTP server (aiosmtpd) and a real local HTTP SMS gateway:
outages recover with every notice delivered exactly once; refusals end as permanent failures with a reason;
a resend after a crash reaches nobody twice (gateway idempotency, same Message-ID)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from typing import Any

import pytest
import sqlmodel
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from libs.clock import SystemClock
from libs.contracts import Event
from libs.db import make_session_factory
from libs.messaging import Delivered
from services.notifications.adapters import (
    EmailSender,
    HttpSmsGateway,
    HttpSmsSettings,
    NotificationsConfig,
    Senders,
    SmtpSettings,
)
from services.notifications.delivery import Delivery, DeliveryOptions
from services.notifications.domain import RetryPolicy, message_id
from services.notifications.handlers import notice_handler
from services.notifications.metrics import NoticeMetrics
from services.notifications.notices import NoticeBook
from services.notifications.store import NoticeRow, metadata
from tests.support.sms_gateway import SmsGatewayServer
from tests.support.smtp_server import SmtpTestServer
from tests.unit.notifications.notif_factory import consumed, envelope, new_dossier, received

pytestmark = pytest.mark.infra
OUTBOX: Table = metadata.tables["outbox"]
FAST_RETRY = RetryPolicy(initial_delay_seconds=0.1, max_delay_seconds=0.3, window_seconds=120)



class Harness:
    def __init__(self, engine: AsyncEngine, smtp: SmtpTestServer, gateway: SmsGatewayServer,
                 sending_timeout: float = 60) -> None:
        self.sessions = make_session_factory(engine)
        self.config = NotificationsConfig(retry=FAST_RETRY)
        self.metrics = NoticeMetrics(CollectorRegistry())
        self.handler = notice_handler(NoticeBook(self.config), OUTBOX, self.metrics, SystemClock())
        email = EmailSender(SmtpSettings(host=smtp.host, port=smtp.port, timeout_seconds=2))
        sms = HttpSmsGateway(HttpSmsSettings(url=gateway.url, auth_token="s3cret", timeout_seconds=1))  # type: ignore[arg-type]
        self.senders = Senders(email, sms)
        options = DeliveryOptions(batch_size=20, concurrency=6, poll_seconds=0.05,
                                  sending_timeout_seconds=sending_timeout, sweep_every_seconds=0.1)
        self.delivery = Delivery(self.sessions, OUTBOX, SystemClock(), self.config, self.senders, self.metrics,
                                 options)

    async def apply(self, event: Event) -> None:
        async with self.sessions() as session:
            async with session.begin():
                after = await self.handler(session, [consumed(event)])
            after()

    async def notices(self) -> list[NoticeRow]:
        async with self.sessions() as session:
            return list((await session.exec(sqlmodel.select(NoticeRow).order_by(col(NoticeRow.created_at)))).all())

    async def outbox(self) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            rows = (await session.execute(select(OUTBOX).order_by(OUTBOX.c.id))).mappings().all()
        return [{"type": r["event_type"], **json.loads(r["payload"])} for r in rows]

    async def until_settled(self, timeout: float = 40) -> list[NoticeRow]:
        """Run the loop until no notice is created, sending or waiting for a retry."""
        task = asyncio.create_task(self.delivery.run())
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                notices = await self.notices()
                if all(n.status not in ("created", "sending", "temporary_failure") for n in notices):
                    return notices
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(Counter(n.status for n in notices))
                await asyncio.sleep(0.1)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_outages_then_recovery_deliver_every_notice_exactly_once(
    engine: AsyncEngine, smtp_server: SmtpTestServer, sms_gateway: SmsGatewayServer
) -> None:
    h = Harness(engine, smtp_server, sms_gateway)
    dossiers = [new_dossier(i) for i in range(1, 21)]
    for d, code in dossiers:
        await h.apply(received(d, code, email=f"c{code[-4:]}@example.vn"))
    sms_gateway.program("5xx", count=12)
    sms_gateway.program("hang", count=3)  # longer than the sender's 1 s timeout
    smtp_server.reject_next(451, "4.3.0 Try again later", count=6)

    notices = await h.until_settled()

    assert Counter(n.status for n in notices) == {"delivered": 40}
    assert sum(1 for n in notices if n.attempts > 1) >= 12, "the outage was felt"
    keys = [m.idempotency_key for m in sms_gateway.messages]
    assert sorted(keys) == sorted(n.key for n in notices if n.channel == "sms")  # each SMS stored once
    assert sms_gateway.duplicates == 0
    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == len(set(ids)) == 20
    assert set(ids) == {message_id(n.key) for n in notices if n.channel == "email"}
    events = await h.outbox()
    assert Counter(e["type"] for e in events) == {"vn.onestop.notice.delivered.v1": 40}
    assert {e["notice_id"] for e in events} == {str(n.id) for n in notices}
    assert h.metrics.send_seconds.labels("sms")._sum.get() > 0  # type: ignore[attr-defined]


async def test_outcome_events_continue_the_trace_of_the_event_that_called_for_the_notice(
    engine: AsyncEngine, smtp_server: SmtpTestServer, sms_gateway: SmsGatewayServer
) -> None:
    """Sent by the delivery loop, outside any event's span, notice.delivered still carries the receipt's trace:
    one trace from receipt to the last notice (issue 15 §3)."""
    h = Harness(engine, smtp_server, sms_gateway)
    d, code = new_dossier(31)
    event = received(d, code, email=f"c{code[-4:]}@example.vn")
    span = TracerProvider().get_tracer("test").start_span("onestop.intake process")
    async with h.sessions() as session:
        async with session.begin():
            after = await h.handler(session, [Delivered(event, envelope(event), None, {}, span)])
        after()
    span.end()

    assert Counter(n.status for n in await h.until_settled()) == {"delivered": 2}
    async with h.sessions() as session:
        rows = (await session.execute(select(OUTBOX.c.event_type, OUTBOX.c.headers))).all()
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert [t for t, _ in rows] == ["vn.onestop.notice.delivered.v1"] * 2
    assert {h["traceparent"].split("-")[1] for _, h in rows} == {trace_id}


async def test_refusals_end_as_permanent_failures_with_the_reason(
    engine: AsyncEngine, smtp_server: SmtpTestServer, sms_gateway: SmsGatewayServer
) -> None:
    h = Harness(engine, smtp_server, sms_gateway)
    (d1, c1), (d2, c2) = new_dossier(1), new_dossier(2)
    await h.apply(received(d1, c1, phone="0241234567", email=None))  # a landline: never reaches the gateway
    await h.apply(received(d2, c2, email="nobody@example.vn"))
    sms_gateway.program("4xx")
    smtp_server.reject_next(550, "5.1.1 Mailbox unavailable")

    notices = await h.until_settled()

    got = {(n.code, n.channel): (n.status, n.reason) for n in notices}
    assert got == {
        (c1, "sms"): ("permanent_failure",
                      "invalid phone number: not a valid Vietnamese mobile number (wrong length or prefix)"),
        (c2, "sms"): ("permanent_failure", "400: invalid destination number"),
        (c2, "email"): ("permanent_failure", "recipient refused: 550 5.1.1 Mailbox unavailable"),
    }
    assert sms_gateway.messages == [] and smtp_server.messages == []
    failed = [e for e in await h.outbox() if e["type"] == "vn.onestop.notice.failed.v1"]
    assert sorted((e["channel"], e["status"]) for e in failed) == [
        ("email", "permanent_failure"), ("sms", "permanent_failure"), ("sms", "permanent_failure")]


async def test_resend_after_a_crash_reaches_the_citizen_once(
    engine: AsyncEngine, smtp_server: SmtpTestServer, sms_gateway: SmsGatewayServer
) -> None:
    h = Harness(engine, smtp_server, sms_gateway, sending_timeout=0.5)
    d, code = new_dossier()
    await h.apply(received(d, code))
    claimed = await h.delivery.claim()
    for c in claimed:  # sent, then the process died before recording the result
        assert (await h.senders.send(c.row.channel, c.row.recipient, c.row)).ok

    notices = await h.until_settled()  # the sweeper finds them in `sending` and sends again

    assert {(n.channel, n.status, n.attempts) for n in notices} == {("sms", "delivered", 2), ("email", "delivered", 2)}
    assert len(sms_gateway.messages) == 1 and sms_gateway.duplicates == 1
    assert [m["Message-ID"] for m in smtp_server.messages] == [message_id(claimed[1].row.key)] * 2
