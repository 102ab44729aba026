"""The deadline sweep: overdue, due-soon and unacknowledged hand-over warnings, each raised once.

A background loop of the process (app.py). It reads only the cases' query columns, a page at a time, lets
the domain decide (`Watched.check_deadlines`) and writes back, per page, one UPDATE of the cases it warned,
one INSERT of their event log rows and one of their outbox rows."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.calendar import WorkCalendar
from libs.clock import Clock
from libs.messaging import Outbox
from libs.observability import stored_context
from services.processing import store
from services.processing.domain import CaseEvent
from services.processing.metrics import ProcessingMetrics
from services.processing.settings import ProcessingSettings
from services.processing.staging import Staged

log = logging.getLogger(__name__)


@dataclass(eq=False)
class DeadlineSweep:
    sessions: async_sessionmaker[Any]
    clock: Clock
    calendar: WorkCalendar
    outbox: Outbox
    metrics: ProcessingMetrics
    settings: ProcessingSettings  # sweep_seconds, sweep_page_size, due_soon_hours

    async def run_sweeps(self) -> None:
        """The process's loop: sweep every `sweep_seconds`; a failed sweep is logged and simply runs again."""
        while True:
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("deadline sweep failed; will run again")
            await asyncio.sleep(self.settings.sweep_seconds)

    async def sweep_once(self) -> list[CaseEvent]:
        """Check every open case near its deadline (or with an unacknowledged hand-over), a page at a time.

        Flags and events commit together, so a warning is raised once however often (or in however many
        processes) the sweep runs; a crash before the commit only means the next sweep raises it."""
        now = self.clock.now()
        horizon = self.calendar.add_working_hours(now, self.settings.due_soon_hours) + timedelta(days=1)
        async with self.sessions() as session:
            keys = await store.sweep_keys(session, now, horizon)
        raised: list[CaseEvent] = []
        size = self.settings.sweep_page_size
        for start in range(0, len(keys), size):
            async with self.sessions() as session, session.begin():
                page = await store.sweep_page(session, now, horizon, keys[start:start + size])
                events = await self._sweep_page(session, page, now)
            if events:  # committed
                self.metrics.count(events)
                self.outbox.wake()
            raised += events
        return raised

    async def _sweep_page(self, session: AsyncSession, page: list[store.Candidate], now: datetime) -> list[CaseEvent]:
        """The domain decides on the page's views; then one UPDATE of the cases it warned, and one INSERT of
        the event log rows and one of the outbox rows of those the UPDATE found unchanged since the read (the
        others were saved meanwhile by an officer or a consumer: the next sweep checks them again)."""
        decided: list[tuple[store.Candidate, list[CaseEvent]]] = []
        for cand in page:
            mine = cand.watched.check_deadlines(now, self.calendar, self.settings.due_soon_hours)
            if mine:
                decided.append((cand, mine))
        written = await store.save_swept(session, [(c, c.event_seq + len(mine)) for c, mine in decided], now)
        events: list[CaseEvent] = []
        staged = Staged(now)
        for cand, mine in decided:
            if cand.dossier_id in written:
                trace = stored_context(cand.trace) if cand.trace else None  # cases opened before it was stored
                staged.add_all(cand.dossier_id, cand.event_seq, mine, trace)
                events += mine
        await staged.write(session, self.outbox.table)
        return events
