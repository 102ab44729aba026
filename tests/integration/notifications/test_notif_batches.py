"""The consumer's batch unit of work and the delivery loop's set-based statements on PostgreSQL (array
parameters, row locks): the same decisions as one event per transaction, in a handful of statements."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy
from prometheus_client import CollectorRegistry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.clock import SystemClock
from libs.contracts import Event
from libs.db import make_session_factory
from services.notifications.adapters import ConsoleSms, LogEmail, NotificationsConfig, Senders, SmtpSettings
from services.notifications.delivery import Delivery, DeliveryOptions
from services.notifications.handlers import notice_handler
from services.notifications.metrics import NoticeMetrics
from services.notifications.notices import NoticeBook
from services.notifications.store import HELD, NOTICES, OUTBOX
from tests.unit.notifications.notif_factory import (
    consumed,
    handed_over,
    new_dossier,
    received,
    stopped,
    supplement_received,
    supplement_requested,
)

pytestmark = pytest.mark.infra
T = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)



class Statements:
    def __init__(self, engine: AsyncEngine) -> None:
        self.seen: list[str] = []
        sqlalchemy.event.listen(engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.seen.append(" ".join(statement.split()[:3]))

    def take(self) -> list[str]:
        seen, self.seen = self.seen, []
        return seen


async def test_batch_on_postgresql(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    metrics = NoticeMetrics(CollectorRegistry())
    config = NotificationsConfig()
    handler = notice_handler(NoticeBook(config), OUTBOX, metrics, SystemClock())
    delivery = Delivery(sessions, OUTBOX, SystemClock(), config,
                        Senders(LogEmail(SmtpSettings(provider="log")), ConsoleSms()), metrics,
                        DeliveryOptions(batch_size=50))

    async def batch(events: list[Event]) -> None:
        async with sessions() as session:
            async with session.begin():
                after = await handler(session, [consumed(event, at=T) for event in events])
            after()

    statements = Statements(engine)
    (d1, c1), (d2, c2), (d3, c3) = new_dossier(1), new_dossier(2), new_dossier(3)
    await batch([stopped(d1, c1, T + timedelta(hours=1)), received(d3, c3)])  # d1 held, d3 stored
    many = [new_dossier(10 + i) for i in range(40)]
    statements.take()
    await batch([
        received(d1, c1),  # releases the held notice (stored in an earlier batch)
        received(d2, c2, email=None),
        supplement_requested(d2, c2, T + timedelta(hours=1)),
        supplement_received(d2, c2, T + timedelta(hours=2)),
        handed_over(d3, c3, T + timedelta(hours=3), method="in_person"),  # expires d3's stored notices
        *(received(d, code) for d, code in many),
    ])
    recorded = statements.take()
    async with sessions() as session:
        rows = (await session.execute(select(NOTICES.c.code, NOTICES.c.kind, NOTICES.c.channel, NOTICES.c.status)))
        got = {(code, kind, channel): status for code, kind, channel, status in rows}
        assert (await session.execute(select(HELD))).all() == []
    assert {k: v for k, v in got.items() if k[0] in (c1, c2, c3)} == {
        (c1, "stopped", "sms"): "created", (c1, "stopped", "email"): "created",
        (c1, "received", "sms"): "created", (c1, "received", "email"): "created",
        (c2, "received", "sms"): "created", (c2, "supplement_requested", "sms"): "expired",
        (c3, "received", "sms"): "expired", (c3, "received", "email"): "expired",
    }
    assert len(got) == 8 + 80
    # contacts: read (locked), insert new, update known; held: read, delete; notices: read open, insert,
    # expire stored; outbox: one insert. Whatever the number of events.
    assert len(recorded) <= 9, recorded

    await delivery.drain()
    delivering = Counter(statements.take())
    async with sessions() as session:
        statuses = Counter((await session.execute(select(NOTICES.c.status))).scalars())
        events = Counter((await session.execute(select(OUTBOX.c.event_type))).scalars())
    assert statuses == {"delivered": 85, "expired": 3}
    assert events == {"vn.onestop.notice.delivered.v1": 85, "vn.onestop.notice.failed.v1": 3}
    # 85 notices: two claims (a read and one UPDATE each), their results group-committed (one UPDATE and one
    # INSERT per transaction of up to `concurrency` results), no statement per notice.
    assert sum(delivering.values()) <= 45, delivering
