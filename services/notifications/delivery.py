"""The delivery loop (a Runtime.loops task): due notices → `sending` (commit) → send → result + outcome event
(one transaction). A sweeper re-queues notices left in `sending` by a crash; the idempotency key (SMS
gateway) and the deterministic Message-ID (e-mail) keep that resend from reaching the citizen as a new message."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Table, and_, func, or_
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.clock import Clock
from libs.messaging import enqueue
from services.notifications.adapters import (
    EmailSenderProtocol,
    NotificationsConfig,
    SmsSender,
    make_email_sender,
    make_sms_sender,
)
from services.notifications.domain import (
    Channel,
    DeliveryResult,
    NoticeProgress,
    NoticeStatus,
    expire,
    interrupted,
    is_stale,
    manual_retry,
    permanent,
    record_result,
    render,
    start_attempt,
    temporary,
)
from services.notifications.metrics import NoticeMetrics
from services.notifications.service import outcome_event
from services.notifications.store import ContactRow, NoticeRow, progress_of, save_progress

log = logging.getLogger(__name__)
ST = NoticeStatus


@dataclass
class Senders:
    email: EmailSenderProtocol
    sms: SmsSender

    @classmethod
    def from_config(cls, config: NotificationsConfig) -> Senders:
        return cls(make_email_sender(config.email), make_sms_sender(config.sms))

    async def send(self, channel: str, to: str, row: NoticeRow) -> DeliveryResult:
        try:
            notice = render(row.kind, channel, row.context)
        except Exception as exc:  # bad stored context or a template bug: retrying will not help
            return permanent(f"cannot render the notice: {type(exc).__name__}: {exc}")
        if channel == Channel.EMAIL:
            return await self.email.send(to, notice, row.key)
        return await self.sms.send(to, notice.text, row.key)

    async def aclose(self) -> None:
        await self.sms.aclose()


@dataclass(frozen=True)
class DeliveryOptions:
    batch_size: int = 50
    concurrency: int = 8
    poll_seconds: float = 1.0
    sending_timeout_seconds: float = 60.0  # `sending` for longer than this: the attempt was interrupted
    sweep_every_seconds: float = 1.0
    gauge_every_seconds: float = 2.0


@dataclass(frozen=True)
class Claimed:
    row: NoticeRow
    progress: NoticeProgress  # as written when claimed (status sending)


class Delivery:
    def __init__(
        self,
        sessions: async_sessionmaker[Any],
        outbox: Table,
        clock: Clock,
        config: NotificationsConfig,
        senders: Senders,
        metrics: NoticeMetrics,
        options: DeliveryOptions | None = None,
        wake_relay: Callable[[], None] = lambda: None,
    ) -> None:
        self.sessions, self.outbox, self.clock = sessions, outbox, clock
        self.config, self.senders, self.metrics = config, senders, metrics
        self.options = options or DeliveryOptions()
        self.wake_relay = wake_relay
        self._slots = asyncio.Semaphore(self.options.concurrency)
        self._last_sweep = self._last_gauge = 0.0

    # -- the loop -----------------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            while True:
                try:
                    handled = await self.run_once()
                except asyncio.CancelledError:
                    raise
                except Exception:  # database away: nothing is lost, the notices wait in the table
                    log.exception("delivery loop failed; will retry")
                    handled = 0
                    await asyncio.sleep(1)
                if handled < self.options.batch_size:
                    await asyncio.sleep(self.options.poll_seconds)
        finally:
            await self.senders.aclose()

    async def run_once(self) -> int:
        """Sweep (when due), claim one batch and deliver it; returns how many notices were claimed."""
        tick = time.monotonic()
        if tick - self._last_sweep >= self.options.sweep_every_seconds:
            self._last_sweep = tick
            await self.sweep()
        claimed = await self.claim()
        await asyncio.gather(*(self.deliver(c) for c in claimed))
        if tick - self._last_gauge >= self.options.gauge_every_seconds:
            self._last_gauge = tick
            await self.refresh_retry_queue()
        return len(claimed)

    async def drain(self, rounds: int = 100) -> None:
        """Deliver until nothing is due (tests)."""
        for _ in range(rounds):
            self._last_sweep = 0.0
            if not await self.run_once():
                return

    # -- steps --------------------------------------------------------------------------------------
    async def claim(self) -> list[Claimed]:
        """Due notices → `sending`, committed before anything is sent. Notices switched off since they were
        recorded, or whose moment passed, are expired instead."""
        now = self.clock.now()
        due = or_(
            col(NoticeRow.status) == ST.CREATED.value,
            and_(col(NoticeRow.status) == ST.TEMPORARY_FAILURE.value, col(NoticeRow.next_attempt_at) <= now),
        )
        query = (
            select(NoticeRow, ContactRow.dossier_state)
            .join(ContactRow, col(ContactRow.dossier_id) == col(NoticeRow.dossier_id))
            .where(due)
            .order_by(col(NoticeRow.created_at))
            .limit(self.options.batch_size)
        )
        claimed: list[Claimed] = []
        expired = False
        async with self.sessions() as session, session.begin():
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=NoticeRow)
            for row, state in (await session.exec(query)).all():
                before = progress_of(row)
                if not self.config.policy.enabled(row.kind, row.channel):
                    expired |= await self._finish(session, row, before, expire(before, "switched off"), now)
                elif is_stale(row.kind, state):
                    after = expire(before, f"stale: the dossier is {state}")
                    expired |= await self._finish(session, row, before, after, now)
                else:
                    after = start_attempt(before, now)
                    if await save_progress(session, row.id, before, after, now):
                        claimed.append(Claimed(row, after))
        if expired:
            self.wake_relay()
        return claimed

    async def deliver(self, c: Claimed) -> None:
        """Send one claimed notice and record the result with its outcome event; never raises."""
        try:
            # The slot covers the send AND its record: at most `concurrency` notices are ever sent but not
            # yet recorded, which bounds what a crash can make us send again.
            async with self._slots:
                started = time.perf_counter()
                result = await self._send(c.row)
                self.metrics.send_seconds.labels(c.row.channel).observe(time.perf_counter() - started)
                now = self.clock.now()
                after = record_result(c.progress, result, now, self.config.retry)
                async with self.sessions() as session, session.begin():
                    final = await self._finish(session, c.row, c.progress, after, now)
            if final:
                self.wake_relay()
        except Exception:  # the notice stays `sending`; the sweeper takes it up again
            log.exception("recording the result of notice %s failed", c.row.id)

    async def _send(self, row: NoticeRow) -> DeliveryResult:
        try:
            return await self.senders.send(row.channel, row.recipient, row)
        except Exception as exc:  # an adapter bug must not leave the notice in `sending` for good
            log.exception("sender failed on notice %s", row.id)
            return temporary(f"sender error: {type(exc).__name__}: {exc}")

    async def sweep(self) -> int:
        """Notices `sending` for longer than the timeout were interrupted (crash, kill -9): retry them."""
        now = self.clock.now()
        cutoff = now - timedelta(seconds=self.options.sending_timeout_seconds)
        query = (
            select(NoticeRow)
            .where(col(NoticeRow.status) == ST.SENDING.value, col(NoticeRow.updated_at) < cutoff)
            .limit(500)
        )
        count, final = 0, False
        async with self.sessions() as session, session.begin():
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            for row in (await session.exec(query)).all():
                before = progress_of(row)
                after = interrupted(before, now, self.config.retry)
                final |= await self._finish(session, row, before, after, now)
                count += 1
        if count:
            log.warning("re-queued %d notice(s) interrupted while sending", count)
        if final:
            self.wake_relay()
        return count

    async def refresh_retry_queue(self) -> None:
        query = (
            select(NoticeRow.channel, func.count())
            .where(col(NoticeRow.status) == ST.TEMPORARY_FAILURE.value)
            .group_by(col(NoticeRow.channel))
        )
        async with self.sessions() as session:
            counts = dict((await session.exec(query)).all())
        for channel in Channel:
            self.metrics.retry_queue.labels(channel.value).set(counts.get(channel.value, 0))

    async def retry(self, notice_id: UUID) -> NoticeRow | None:
        """An operator's retry: a fresh retry window, sent now. IllegalTransitionError when the notice
        is delivered, expired, permanently failed or being sent."""
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            row = await session.get(NoticeRow, notice_id, with_for_update=True)
            if row is None:
                return None
            before = progress_of(row)
            after = manual_retry(before, now)
            if not await save_progress(session, row.id, before, after, now):
                raise RuntimeError("the notice changed meanwhile; try again")
        await self.deliver(Claimed(row, after))
        async with self.sessions() as session:
            return await session.get(NoticeRow, notice_id)

    async def _finish(
        self, session: AsyncSession, row: NoticeRow, before: NoticeProgress, after: NoticeProgress, now: datetime
    ) -> bool:
        """Write a lifecycle step, with notice.delivered / notice.failed when it is final. True when an
        outcome event was staged."""
        if not await save_progress(session, row.id, before, after, now):
            log.info("notice %s changed meanwhile; %s not recorded", row.id, after.status.value)
            return False
        self.metrics.count(row.channel, row.kind, after.status.value)
        event = outcome_event(row, after, now)
        if event is None:
            return False
        await enqueue(session, self.outbox, event, now)
        return True
