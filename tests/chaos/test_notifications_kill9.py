"""Chaos: SIGKILL notifications in the middle of a burst of 500 notices, restart it, and check that no notice is
missing, that the SMS gateway got every SMS exactly once, and that e-mails repeated in the crash window carry
the same Message-ID (so the citizen's mail client shows one message)."""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from libs.db import make_engine
from services.notifications.domain import message_id
from tests.conftest import NewDatabase
from tests.support.sms_gateway import SmsGatewayServer
from tests.support.smtp_server import SmtpTestServer
from tests.support.stack import SERVICES, Stack
from tests.unit.notifications import notif_factory as f

pytestmark = pytest.mark.infra
DOSSIERS = 250  # × (SMS + e-mail) = 500 notices
KILL_AFTER_SMS = 70


class ChaosStack(Stack):
    """Only notifications, on its own port (an e2e stack may be up on 18001–18004 in the same run)."""

    @staticmethod
    def port(service: str) -> int:
        return 18300 + 1 + SERVICES.index(service)


class SlowGateway(SmsGatewayServer):
    """A gateway that takes 15 ms per request, so the kill lands while SMS are in flight; counts requests per key."""

    def __init__(self) -> None:
        super().__init__()
        self.by_key: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def handle_sms(self, payload: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        time.sleep(0.015)
        with self._count_lock:
            self.by_key[headers.get("idempotency-key", "")] += 1
        return super().handle_sms(payload, headers)


@pytest.fixture
async def chaos(kafka_bootstrap: str, new_database: NewDatabase) -> AsyncIterator[ChaosStack]:
    url = await new_database(f"chaos_notif_{secrets.token_hex(3)}")
    stack = ChaosStack(run_dir=Path(tempfile.mkdtemp(prefix="onestop-chaos-")), kafka=kafka_bootstrap,
                       db_urls={"notifications": url})
    try:
        yield stack
    finally:
        stack.stop_all()


async def ours(url: str, dossiers: set[str]) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Our notices and their outcome events (ce_type, notice id); other test runs share the topics."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            query = text("SELECT key, dossier_id, channel, status, attempts FROM notices")
            rows = (await conn.execute(query)).mappings().all()
            out = (await conn.execute(text("SELECT event_type, payload FROM outbox"))).mappings().all()
    finally:
        await engine.dispose()
    notices = [dict(r) for r in rows if str(r["dossier_id"]) in dossiers]
    payloads = [(r["event_type"], json.loads(r["payload"])) for r in out]
    return notices, [(t, p["notice_id"]) for t, p in payloads if p["dossier_id"] in dossiers]


async def test_kill9_mid_burst_loses_nothing_and_sends_nothing_twice(chaos: ChaosStack) -> None:
    started = time.monotonic()
    group = f"chaos-notifications-{secrets.token_hex(4)}"
    await f.commit_at_end(chaos.kafka, group)
    with SmtpTestServer() as smtp, SlowGateway() as gateway:
        overrides = {
            "ONESTOP_NOTIFICATIONS_CONSUMER_GROUP": group,
            "ONESTOP_NOTIFICATIONS_EMAIL_PROVIDER": "smtp",
            "ONESTOP_NOTIFICATIONS_SMTP_HOST": smtp.host,
            "ONESTOP_NOTIFICATIONS_SMTP_PORT": str(smtp.port),
            "ONESTOP_NOTIFICATIONS_SMS_PROVIDER": "http",
            "ONESTOP_NOTIFICATIONS_SMS_URL": gateway.url,
            "ONESTOP_NOTIFICATIONS_POLL_SECONDS": "0.1",
            "ONESTOP_NOTIFICATIONS_CONCURRENCY": "8",
            "ONESTOP_NOTIFICATIONS_SENDING_TIMEOUT_SECONDS": "3",
            "ONESTOP_NOTIFICATIONS_RETRY_INITIAL_SECONDS": "0.5",
            "ONESTOP_NOTIFICATIONS_RETRY_MAX_SECONDS": "2",
        }
        chaos.start("notifications", overrides)
        await chaos.wait_ready("notifications")

        run = secrets.token_hex(3)
        dossiers = [f.new_dossier(i) for i in range(1, DOSSIERS + 1)]
        mine = {str(d) for d, _ in dossiers}
        events = [f.received(d, code, phone=f"0912{i:06d}", email=f"chaos-{run}-{i}@example.vn")
                  for i, (d, code) in enumerate(dossiers, start=1)]
        await f.publish_many(chaos.kafka, list(events))

        def our_sms() -> list[Any]:
            return [m for m in list(gateway.messages) if m.idempotency_key.split(":")[0] in mine]

        def our_mail() -> list[Any]:
            return [m for m in list(smtp.messages) if str(m["To"]).startswith(f"chaos-{run}-")]

        deadline = time.monotonic() + 60
        while len(our_sms()) < KILL_AFTER_SMS:
            assert time.monotonic() < deadline, f"the burst did not start: {gateway.stats()}"
            await asyncio.sleep(0.01)
        chaos.kill9("notifications")
        at_kill = (len(our_sms()), len(our_mail()))
        assert at_kill[0] < DOSSIERS, "the kill came after the burst"

        chaos.start("notifications", overrides)
        await chaos.wait_ready("notifications")
        deadline = time.monotonic() + 90
        while True:
            notices, outcomes = await ours(chaos.db_urls["notifications"], mine)
            if len(notices) == 2 * DOSSIERS and all(r["status"] == "delivered" for r in notices):
                break
            assert time.monotonic() < deadline, Counter(r.get("status") for r in notices)
            await asyncio.sleep(0.5)
        await asyncio.sleep(1)  # any late resend would show now

    notices, outcomes = await ours(chaos.db_urls["notifications"], mine)
    sms, mails = our_sms(), our_mail()

    # No notice missing, each recorded once, each with one outcome event.
    assert Counter(r["channel"] for r in notices) == {"sms": DOSSIERS, "email": DOSSIERS}
    per_notice = Counter(notice_id for _, notice_id in outcomes)
    assert len(per_notice) == 2 * DOSSIERS and set(per_notice.values()) == {1}
    assert {t for t, _ in outcomes} == {"vn.onestop.notice.delivered.v1"}

    # The gateway has each SMS exactly once (resends after the crash were answered from its idempotency store).
    sms_keys = Counter(m.idempotency_key for m in sms)
    assert set(sms_keys) == {r["key"] for r in notices if r["channel"] == "sms"}
    assert set(sms_keys.values()) == {1}
    sms_resent = sum(gateway.by_key[k] - 1 for k in sms_keys)

    # E-mails: one Message-ID per notice; a repeat (only in the crash window) carries the same Message-ID.
    by_recipient: defaultdict[str, set[str]] = defaultdict(set)
    for m in mails:
        by_recipient[str(m["To"])].add(str(m["Message-ID"]))
    assert len(by_recipient) == DOSSIERS and all(len(ids) == 1 for ids in by_recipient.values())
    ids = Counter(str(m["Message-ID"]) for m in mails)
    assert set(ids) == {message_id(r["key"]) for r in notices if r["channel"] == "email"}
    repeated = sum(ids.values()) - len(ids)
    resent = sum(1 for r in notices if r["attempts"] > 1)
    print(
        f"\nchaos: {2 * DOSSIERS} notices; SIGKILL after {at_kill[0]} SMS / {at_kill[1]} e-mails; "
        f"{resent} notices left `sending` by the kill were re-queued; gateway stored {len(sms)} SMS, "
        f"answered {sms_resent} repeated request(s) from its idempotency store; "
        f"SMTP got {len(mails)} e-mails for {len(ids)} Message-IDs ({repeated} repeated in the crash window, "
        f"same Message-ID); {time.monotonic() - started:.1f}s"
    )
    assert repeated + sms_resent <= 8, "only notices in flight at the kill (concurrency 8) go out again"
