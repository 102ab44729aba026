"""The delivery loop (a Runtime.loops task), a batch at a time: claim the due notices (`sending`, one
transaction) → send them concurrently (bounded) → record every result with its outcome event (one
transaction). A sweeper re-queues notices left in `sending` by a crash; the idempotency key (SMS gateway)
and the deterministic Message-ID (e-mail) keep that resend from reaching the citizen as a new message."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Table
from sqlalchemy.ext.asyncio import async_sessionmaker

from libs.clock import Clock
from libs.messaging import outbox_row
from libs.observability import stored_context
from services.notifications.adapters import NotificationsConfig, Senders
from services.notifications.domain import (
    Channel,
    DeliveryResult,
    NoticeProgress,
    NoticeStatus,
    expire,
    interrupted,
    is_stale,
    manual_retry,
    record_result,
    start_attempt,
    temporary,
)
from services.notifications.domain.outcomes import outcome_event
from services.notifications.domain.records import Notice, Step, progress_of
from services.notifications.group_commit import GroupCommit
from services.notifications.metrics import NoticeMetrics
from services.notifications.store import (
    NoticeRow,
    load_due,
    load_interrupted,
    load_notice,
    notice_row,
    record_steps,
    retry_queue,
    steps_connection,
)

log = logging.getLogger(__name__)
ST = NoticeStatus


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
    row: Notice
    progress: NoticeProgress  # as written when claimed (status sending)


Counts = list[tuple[str, str, str]]  # (channel, kind, status) to count once committed


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
        self._records = GroupCommit(self._record_steps)
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
        await self.deliver_batch(claimed)
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
    async def _unit_of_work(self, work: Callable[[Connection], tuple[Counts, bool]]) -> None:
        """Run `work` in one transaction; count its metric samples once committed, wake the relay when it
        staged events."""
        async with self.sessions() as session, session.begin():
            conn = await session.connection()
            counts, staged = await conn.run_sync(work)
        self.metrics.count_all(counts)
        if staged:
            self.wake_relay()

    def _write(self, conn: Connection, steps: list[Step], now: datetime) -> tuple[set[UUID], Counts, bool]:
        """Write lifecycle steps with notice.delivered / notice.failed for the final ones (one statement on
        PostgreSQL, atomic on its own; elsewhere one for the steps and one for their events)."""
        events = []
        for step in steps:
            event = outcome_event(step.notice, step.after, now)
            if event is not None:  # in the trace of the event that called for the notice
                trace = stored_context(step.notice.trace) if step.notice.trace else None
                events.append((step.notice.id, outbox_row(event, now, trace)))
        saved = record_steps(conn, self.outbox, steps, events, now)
        counts: Counts = []
        for step in steps:
            n = step.notice
            if n.id not in saved:
                log.info("notice %s changed meanwhile; %s not recorded", n.id, step.after.status.value)
            elif step.after.status is not ST.SENDING:  # a status reached (claims are not counted)
                counts.append((n.channel, n.kind, step.after.status.value))
        return saved, counts, any(nid in saved for nid, _ in events)

    async def claim(self) -> list[Claimed]:
        """Due notices → `sending`, committed before anything is sent. Notices switched off since they were
        recorded, or whose moment passed, are expired instead. One read and one write."""
        now = self.clock.now()
        claimed: list[Claimed] = []

        def work(conn: Connection) -> tuple[Counts, bool]:
            steps = []
            for notice, state in load_due(conn, now, self.options.batch_size):
                before = progress_of(notice)
                if not self.config.policy.enabled(notice.kind, notice.channel):
                    steps.append(Step(notice, before, expire(before, "switched off")))
                elif is_stale(notice.kind, state):
                    steps.append(Step(notice, before, expire(before, f"stale: the dossier is {state}")))
                else:
                    steps.append(Step(notice, before, start_attempt(before, now)))
            saved, counts, staged = self._write(conn, steps, now)
            claimed.extend(Claimed(s.notice, s.after) for s in steps
                           if s.after.status is ST.SENDING and s.notice.id in saved)
            return counts, staged

        await self._unit_of_work(work)
        return claimed

    async def deliver_batch(self, claimed: list[Claimed]) -> None:
        """Send claimed notices concurrently and record each result with its outcome event; never raises.

        A slot (at most `concurrency`) covers a notice's send AND its record, so at most `concurrency`
        notices are ever sent but not yet recorded — what a crash can make us send again (with the same
        idempotency key and Message-ID). The records are group-committed: results that arrive while a
        transaction is being written go together into the next one."""
        await asyncio.gather(*(self._deliver_one(c) for c in claimed))

    async def deliver(self, c: Claimed) -> None:
        """Send one claimed notice and record the result (see deliver_batch)."""
        await self._deliver_one(c)

    async def _deliver_one(self, c: Claimed) -> None:
        try:
            async with self._slots:
                result = await self._send(c.row)
                after = record_result(c.progress, result, self.clock.now(), self.config.retry)
                await self._records.record(Step(c.row, c.progress, after))
        except Exception:  # the notice stays `sending`; the sweeper takes it up again
            log.exception("recording the result of notice %s failed", c.row.id)

    async def _record_steps(self, steps: list[Step]) -> None:
        """Record send results with their outcome events: one statement on PostgreSQL, run without BEGIN /
        COMMIT (it is atomic by itself); elsewhere in a transaction of its own."""
        now = self.clock.now()
        async with self.sessions() as session, steps_connection(session) as conn:
            _, counts, staged = await conn.run_sync(self._write, steps, now)
        self.metrics.count_all(counts)
        if staged:
            self.wake_relay()

    async def _send(self, row: Notice) -> DeliveryResult:
        started = time.perf_counter()
        try:
            result = await self.senders.send(row.channel, row.recipient, row)
        except Exception as exc:  # an adapter bug must not leave the notice in `sending` for good
            log.exception("sender failed on notice %s", row.id)
            result = temporary(f"sender error: {type(exc).__name__}: {exc}")
        self.metrics.send_seconds.labels(row.channel).observe(time.perf_counter() - started)
        return result

    async def sweep(self) -> int:
        """Notices `sending` for longer than the timeout were interrupted (crash, kill -9): retry them."""
        now = self.clock.now()
        cutoff = now - timedelta(seconds=self.options.sending_timeout_seconds)
        found = 0

        def work(conn: Connection) -> tuple[Counts, bool]:
            nonlocal found
            steps = []
            for notice in load_interrupted(conn, cutoff, 500):
                before = progress_of(notice)
                steps.append(Step(notice, before, interrupted(before, now, self.config.retry)))
            found = len(steps)
            return self._write(conn, steps, now)[1:]

        await self._unit_of_work(work)
        if found:
            log.warning("re-queued %d notice(s) interrupted while sending", found)
        return found

    async def refresh_retry_queue(self) -> None:
        async with self.sessions() as session:
            counts = await retry_queue(session)
        for channel in Channel:
            self.metrics.retry_queue.labels(channel.value).set(counts.get(channel.value, 0))

    async def retry(self, notice_id: UUID) -> NoticeRow | None:
        """An operator's retry: a fresh retry window, sent now. IllegalTransitionError when the notice
        is delivered, expired, permanently failed or being sent."""
        now = self.clock.now()
        claimed: list[Claimed] = []

        def work(conn: Connection) -> tuple[Counts, bool]:
            notice = load_notice(conn, notice_id)
            if notice is None:
                return [], False
            before = progress_of(notice)
            step = Step(notice, before, manual_retry(before, now))
            saved, counts, staged = self._write(conn, [step], now)
            if not saved:
                raise RuntimeError("the notice changed meanwhile; try again")
            claimed.append(Claimed(notice, step.after))
            return counts, staged

        await self._unit_of_work(work)
        if not claimed:
            return None
        await self.deliver_batch(claimed)
        async with self.sessions() as session:
            return await notice_row(session, notice_id)
