"""Recording (consumer side) and the delivery loop on an embedded SQLite database, with fake senders and a
fake clock: the unit of work of each step, without Kafka or network."""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
import sqlmodel
from notif_factory import (
    T0,
    consumed,
    envelope,
    handed_over,
    new_dossier,
    received,
    refused,
    rejected,
    result_ready,
    stopped,
    supplement_received,
    supplement_requested,
    transferred,
)
from prometheus_client import CollectorRegistry
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col

from libs.contracts import Event
from libs.db import make_engine, make_session_factory, upgrade
from services.notifications.adapters import Senders
from services.notifications.adapters.config import NotificationsConfig, parse_config
from services.notifications.delivery import Delivery, DeliveryOptions
from services.notifications.domain import (
    DeliveryResult,
    IllegalTransitionError,
    MissingContextError,
    RenderedNotice,
    delivered,
    permanent,
    temporary,
)
from services.notifications.handlers import notice_handler
from services.notifications.metrics import NoticeMetrics
from services.notifications.notices import NoticeBook
from services.notifications.store import HeldNoticeRow, NoticeRow, metadata

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "notifications" / "migrations"
OUTBOX: Table = metadata.tables["outbox"]


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now_ = now

    def now(self) -> datetime:
        return self.now_

    def advance(self, seconds: float) -> None:
        self.now_ += timedelta(seconds=seconds)


class FakeChannel:
    """Answers from a programmed queue (default: delivered); remembers every send."""

    def __init__(self) -> None:
        self.answers: deque[DeliveryResult] = deque()
        self.sent: list[tuple[str, str, str]] = []  # (to, text, key)

    async def send(self, to: str, notice: RenderedNotice | str, key: str) -> DeliveryResult:
        text = notice if isinstance(notice, str) else notice.text
        self.sent.append((to, text, key))
        return self.answers.popleft() if self.answers else delivered("ok", provider_id=f"p-{len(self.sent)}")

    async def aclose(self) -> None:
        return None


class World:
    def __init__(self, sessions: async_sessionmaker[Any], config: NotificationsConfig) -> None:
        self.sessions = sessions
        self.clock = FakeClock(T0)
        self.registry = CollectorRegistry()
        self.metrics = NoticeMetrics(self.registry)
        self.book = NoticeBook(config)
        self.handler = notice_handler(self.book, OUTBOX, self.metrics, self.clock)
        self.email, self.sms = FakeChannel(), FakeChannel()
        self.delivery = Delivery(sessions, OUTBOX, self.clock, config, Senders(self.email, self.sms),
                                 self.metrics, DeliveryOptions(batch_size=10, sending_timeout_seconds=30))

    async def apply(self, event: Event, at: datetime | None = None) -> str:
        env = envelope(event, at or T0)
        await self.handle([consumed(event, env)])
        return env.id

    async def handle(self, batch: list[Any]) -> None:
        """One consumer batch through the batch handler, in one transaction; its after-commit part after."""
        async with self.sessions() as session:
            async with session.begin():
                after = await self.handler(session, batch)
            if after is not None:
                after()

    async def notices(self) -> list[NoticeRow]:
        async with self.sessions() as session:
            return list((await session.exec(sqlmodel.select(NoticeRow).order_by(col(NoticeRow.created_at)))).all())

    async def statuses(self) -> dict[tuple[str, str], str]:
        return {(n.kind, n.channel): n.status for n in await self.notices()}

    async def outbox(self) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            rows = (await session.execute(select(OUTBOX).order_by(OUTBOX.c.id))).mappings().all()
        return [{"type": r["event_type"], **json.loads(r["payload"])} for r in rows]

    def metric(self, channel: str, kind: str, status: str) -> float:
        labels = {"channel": channel, "event": kind, "status": status}
        return self.registry.get_sample_value("onestop_notices_total", labels) or 0.0


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/notifications.db")
    await upgrade(engine, MIGRATIONS)
    yield World(make_session_factory(engine), parse_config("retry: {initial_delay_seconds: 30, window_seconds: 600}",
                                                           environ={}))
    await engine.dispose()


async def test_receipt_records_one_notice_per_channel_and_sends_nothing(world: World) -> None:
    d, code = new_dossier()
    await world.apply(received(d, code))
    notices = await world.notices()
    assert [(n.kind, n.channel, n.status) for n in notices] == [("received", "sms", "created"),
                                                                 ("received", "email", "created")]
    assert notices[0].context["dossier_code"] == code and notices[0].recipient == "0912345678"
    assert world.sms.sent == world.email.sent == []
    assert world.metric("sms", "received", "created") == 1


async def test_delivery_loop_sends_records_and_emits(world: World) -> None:
    d, code = new_dossier()
    await world.apply(received(d, code))
    await world.delivery.drain()
    assert await world.statuses() == {("received", "sms"): "delivered", ("received", "email"): "delivered"}
    [(to, text, key)] = world.sms.sent
    [sms] = [n for n in await world.notices() if n.channel == "sms"]
    assert (to, key) == ("0912345678", f"{d}:{sms.event_id}:sms")
    assert text.startswith(f"Ho so {code} da duoc tiep nhan")
    events = await world.outbox()
    assert [e["type"] for e in events] == ["vn.onestop.notice.delivered.v1"] * 2
    assert {e["provider_id"] for e in events} == {"p-1"}
    assert world.metric("email", "received", "delivered") == 1
    await world.delivery.drain()
    assert len(world.sms.sent) == 1, "a delivered notice is never sent again"


async def test_temporary_failures_are_retried_then_become_technical(world: World) -> None:
    d, code = new_dossier()
    await world.apply(received(d, code, email=None))
    world.sms.answers.extend([temporary("503 busy"), temporary("timeout")])
    await world.delivery.drain()
    [n] = await world.notices()
    assert (n.status, n.attempts, n.reason, n.next_attempt_at) == (
        "temporary_failure", 1, "503 busy", T0 + timedelta(seconds=30))
    await world.delivery.drain()
    assert len(world.sms.sent) == 1, "not before next_attempt_at"
    world.clock.advance(30)
    await world.delivery.drain()
    [n] = await world.notices()
    assert (n.status, n.attempts) == ("temporary_failure", 2)
    await world.delivery.refresh_retry_queue()
    assert world.registry.get_sample_value("onestop_notice_retry_queue", {"channel": "sms"}) == 1
    world.clock.advance(600)  # the window is over
    world.sms.answers.append(temporary("still down"))
    await world.delivery.drain()
    [n] = await world.notices()
    assert n.status == "technical_failure" and n.reason == "retry window over: still down"
    [event] = await world.outbox()
    assert (event["type"], event["status"], event["attempts"]) == ("vn.onestop.notice.failed.v1",
                                                                   "technical_failure", 3)


async def test_permanent_failure_keeps_its_reason(world: World) -> None:
    d, code = new_dossier()
    await world.apply(received(d, code, email=None))
    world.sms.answers.append(permanent("invalid phone number: not a Vietnamese mobile"))
    await world.delivery.drain()
    [n] = await world.notices()
    assert (n.status, n.reason) == ("permanent_failure", "invalid phone number: not a Vietnamese mobile")
    assert (await world.outbox())[0]["reason"] == n.reason
    assert world.metric("sms", "received", "permanent_failure") == 1


async def test_interrupted_send_is_requeued_by_the_sweeper_with_the_same_key(world: World) -> None:
    d, code = new_dossier()
    await world.apply(received(d, code, email=None))
    claimed = await world.delivery.claim()  # marked sending and committed; then the process "dies"
    assert [c.progress.status for c in claimed] == ["sending"]
    assert await world.delivery.sweep() == 0, "not before the sending timeout"
    world.clock.advance(31)
    assert await world.delivery.sweep() == 1
    [n] = await world.notices()
    assert (n.status, n.reason) == ("temporary_failure", "interrupted")
    world.clock.advance(30)
    await world.delivery.drain()
    [n] = await world.notices()
    assert n.status == "delivered" and world.sms.sent[0][2] == claimed[0].row.key


async def test_a_late_result_does_not_overwrite_a_newer_attempt(world: World) -> None:
    d, code = new_dossier()
    await world.apply(received(d, code, email=None))
    [stale] = await world.delivery.claim()
    world.clock.advance(31)
    await world.delivery.sweep()
    world.clock.advance(30)
    [fresh] = await world.delivery.claim()
    await world.delivery.deliver(stale)  # the first attempt finally answers: ignored (attempts differ)
    [n] = await world.notices()
    assert (n.status, n.attempts) == ("sending", 2)
    await world.delivery.deliver(fresh)
    [n] = await world.notices()
    assert (n.status, n.attempts) == ("delivered", 2)


async def test_processing_event_before_the_receipt_is_held_until_the_contact_is_known(world: World) -> None:
    d, code = new_dossier()
    await world.apply(stopped(d, code, T0 + timedelta(hours=1)))
    assert await world.notices() == []
    async with world.sessions() as session:
        assert len((await session.execute(select(HeldNoticeRow))).all()) == 1
    await world.apply(received(d, code))
    notices = await world.notices()
    assert [(n.kind, n.channel, n.status) for n in notices] == [
        ("stopped", "sms", "created"), ("stopped", "email", "created"),
        ("received", "sms", "created"), ("received", "email", "created")]
    assert notices[0].context["reason"] == "người yêu cầu đề nghị dừng"
    assert notices[0].context["agency_name"] != "", "released with the contact's details"
    async with world.sessions() as session:
        assert (await session.execute(select(HeldNoticeRow))).all() == []


async def test_supplement_request_expires_when_the_papers_arrive_first(world: World) -> None:
    d, code = new_dossier()
    await world.apply(received(d, code))
    await world.delivery.drain()
    await world.apply(supplement_requested(d, code, T0 + timedelta(hours=1)))
    await world.apply(supplement_received(d, code, T0 + timedelta(hours=2)))  # before the loop ran
    statuses = await world.statuses()
    assert statuses[("supplement_requested", "sms")] == statuses[("supplement_requested", "email")] == "expired"
    failed = [e for e in await world.outbox() if e["type"] == "vn.onestop.notice.failed.v1"]
    assert [(e["kind"], e["status"]) for e in failed] == [("supplement_requested", "expired")] * 2
    await world.delivery.drain()
    assert all("bo sung" not in text for _, text, _ in world.sms.sent)
    assert world.metric("sms", "supplement_requested", "expired") == 1


async def test_a_request_read_after_a_later_event_is_recorded_expired(world: World) -> None:
    d, code = new_dossier()
    await world.apply(received(d, code))
    await world.apply(supplement_received(d, code, T0 + timedelta(hours=2)))
    await world.apply(supplement_requested(d, code, T0 + timedelta(hours=1)))  # older, read late
    statuses = await world.statuses()
    assert statuses[("supplement_requested", "sms")] == "expired"


async def test_refusal_notice_and_rejection_reason_from_the_earlier_event(world: World) -> None:
    d, code = new_dossier()
    await world.apply(refused(d, code, reason="Thủ tục không thuộc thẩm quyền"))
    d2, code2 = new_dossier(2)
    await world.apply(received(d2, code2))
    await world.apply(rejected(d2, code2, T0 + timedelta(hours=1), reason="không thuộc đối tượng"))
    await world.apply(result_ready(d2, code2, T0 + timedelta(hours=2), outcome="rejected"))
    notices = await world.notices()
    reasons = {(n.kind, n.channel): n.context.get("reason") for n in notices}
    assert reasons[("refused", "sms")] == "Thủ tục không thuộc thẩm quyền"
    assert reasons[("rejected", "email")] == "không thuộc đối tượng"
    await world.delivery.drain()
    texts = [text for _, text, _ in world.sms.sent]
    expected = f"Ho so {code2} khong du dieu kien giai quyet. Ly do: khong thuoc doi tuong"
    assert any(t.startswith(expected) for t in texts)


async def test_kind_switched_off_after_recording_is_expired_not_sent(world: World) -> None:
    d, code = new_dossier()
    await world.apply(received(d, code))
    world.delivery.config = parse_config("policy: {kinds: {received: {sms: false, email: true}}}", environ={})
    await world.delivery.drain()
    assert await world.statuses() == {("received", "sms"): "expired", ("received", "email"): "delivered"}
    assert world.sms.sent == []


async def test_manual_retry(world: World) -> None:
    d, code = new_dossier()
    await world.apply(received(d, code, email=None))
    world.sms.answers.append(temporary("down"))
    await world.delivery.drain()
    world.clock.advance(10_000)
    world.sms.answers.append(temporary("down"))
    world.clock.advance(30)
    await world.delivery.drain()
    [n] = await world.notices()
    assert n.status == "technical_failure"
    row = await world.delivery.retry(n.id)
    assert row is not None and (row.status, row.attempts) == ("delivered", 1)
    with pytest.raises(IllegalTransitionError):
        await world.delivery.retry(n.id)


# -- a consumer batch: many events in one transaction, a handful of statements --------------------------


async def apply_batch(world: World, events: list[Event]) -> None:
    await world.handle([consumed(event, at=T0) for event in events])


async def test_a_batch_decides_as_one_transaction_per_event_would(world: World) -> None:
    (d1, c1), (d2, c2), (d3, c3) = new_dossier(1), new_dossier(2), new_dossier(3)
    await world.apply(received(d3, c3))  # stored before the batch: its open notices expire with the batch
    await apply_batch(world, [
        stopped(d1, c1, T0 + timedelta(hours=1)),  # held: the contact comes later in the same batch
        received(d1, c1),
        received(d2, c2, email=None),
        supplement_requested(d2, c2, T0 + timedelta(hours=1)),
        supplement_received(d2, c2, T0 + timedelta(hours=2)),  # expires the request recorded just before
        handed_over(d3, c3, T0 + timedelta(hours=3), method="in_person"),  # the receipt notices are moot now
    ])
    got = {(n.code, n.kind, n.channel): n.status for n in await world.notices()}
    assert got == {
        (c1, "stopped", "sms"): "created", (c1, "stopped", "email"): "created",
        (c1, "received", "sms"): "created", (c1, "received", "email"): "created",
        (c2, "received", "sms"): "created", (c2, "supplement_requested", "sms"): "expired",
        (c3, "received", "sms"): "expired", (c3, "received", "email"): "expired",
    }
    async with world.sessions() as session:
        assert (await session.execute(select(HeldNoticeRow))).all() == []
    failed = [(e["code"], e["kind"], e["status"]) for e in await world.outbox()]
    assert sorted(failed) == sorted([(c2, "supplement_requested", "expired"), (c3, "received", "expired"),
                                     (c3, "received", "expired")])
    assert world.metric("sms", "supplement_requested", "created") == world.metric(
        "sms", "supplement_requested", "expired") == 1
    await world.delivery.drain()
    assert len(world.sms.sent) == 3 and len(world.email.sent) == 2  # d1 stopped + received, d2 received


async def test_a_redelivered_event_records_nothing_twice(world: World) -> None:
    d, code = new_dossier()
    event = received(d, code)
    env = envelope(event, T0)
    for _ in range(2):  # the same event id (the inbox normally drops it; the notice key does too)
        await world.handle([consumed(event, env)])
    assert len(await world.notices()) == 2
    assert world.metric("sms", "received", "created") == 1


async def test_an_event_that_cannot_make_its_notice_is_refused_alone(world: World) -> None:
    d, code = new_dossier()
    with pytest.raises(MissingContextError):
        await world.apply(stopped(d, code, T0, reason=""))
    assert await world.notices() == []


async def test_a_notice_the_dossier_cannot_fill_is_recorded_as_a_technical_failure(world: World) -> None:
    d, code = new_dossier()
    world.book.config = parse_config("policy: {kinds: {transferred: {sms: true, email: false}}}", environ={})
    await world.apply(refused(d, code))  # a refused dossier has no appointment; `transferred` needs one
    await world.apply(transferred(d, code, T0 + timedelta(hours=1)))
    [n] = [n for n in await world.notices() if n.kind == "transferred"]
    assert n.status == "technical_failure" and n.reason.startswith("cannot build the notice: MissingContextError")
    [event] = [e for e in await world.outbox() if e["kind"] == "transferred"]
    assert (event["type"], event["status"]) == ("vn.onestop.notice.failed.v1", "technical_failure")
    assert world.metric("sms", "transferred", "technical_failure") == 1


async def test_statements_per_batch_do_not_grow_with_the_batch(world: World) -> None:
    dossiers = [new_dossier(i) for i in range(1, 31)]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.split()[0])

    engine = world.sessions.kw["bind"].sync_engine
    sqlalchemy.event.listen(engine, "before_cursor_execute", count)
    try:
        await apply_batch(world, [received(d, code) for d, code in dossiers])
        consumed = len(statements)
        statements.clear()
        await world.delivery.drain()
    finally:
        sqlalchemy.event.remove(engine, "before_cursor_execute", count)
    assert consumed <= 4, statements  # read contacts, write contacts, notices (no held, nothing stale)
    assert len(world.sms.sent) == len(world.email.sent) == 30
    # Results are group-committed: one outbox INSERT per record transaction, far fewer than 60 notices
    # (SQLite writes the steps row by row; PostgreSQL in one statement, see the integration test).
    assert Counter(statements)["INSERT"] <= 15, Counter(statements)


async def test_a_dossier_row_created_meanwhile_makes_the_batch_retry(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two consumers (intake and processing topics) may see the same new dossier at once: the batch that
    loses the race rolls back with a transient error and is applied again over the winner's row."""
    import services.notifications.notices as notices_module
    from libs.messaging.errors import is_transient
    from services.notifications.store import CONTACTS, ConcurrentChangeError

    d, code = new_dossier()
    real_load = notices_module.load_dossiers

    def load_then_race(conn: Any, ids: list[Any]) -> Any:
        rows = real_load(conn, ids)
        conn.execute(CONTACTS.insert().values(dossier_id=d, code=code, full_name="", dossier_state="processing",
                                              updated_at=T0, contact_known=False))
        return rows

    monkeypatch.setattr(notices_module, "load_dossiers", load_then_race)
    with pytest.raises(ConcurrentChangeError) as caught:
        await world.apply(received(d, code))
    assert is_transient(caught.value)
    monkeypatch.undo()
    await world.apply(stopped(d, code, T0 + timedelta(hours=1)))  # the winner's event
    await world.apply(received(d, code))  # the retry
    assert {(n.kind, n.status) for n in await world.notices()} == {("stopped", "created"), ("received", "created")}
