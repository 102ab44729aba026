"""Business gauges of reporting, computed by a loop from SQL aggregates (a scrape only reads them).

Agency label = the competent agency (cơ quan có thẩm quyền), the one answerable for timeliness; a ward's
own dossiers carry the ward, forwarded ones the city department that settles them.

`onestop_dossiers_resolved_total{agency,timeliness}` counts endings applied by THIS process's live
consumer, after the commit (the batch handler returns `count` to run then). A rebuild replays history in
its own process and does not touch it: the counter is a rate signal (Prometheus `increase()` absorbs
restarts); Form 06 is the record.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.calendar import WorkCalendar
from libs.clock import Clock
from libs.observability import Children
from services.reporting.domain import CountingRules, Judge
from services.reporting.domain.certifications import Certifications
from services.reporting.domain.projection import Baked
from services.reporting.domain.state import FactState
from services.reporting.store.queries import certification_gauge_rows, gauge_rows

log = logging.getLogger(__name__)
ON_TIME_WINDOW_DAYS = 30
STATE_NAMES = {1: "submitted", 2: "received", 4: "processing", 5: "supplement_requested",
               6: "payment_requested", 9: "result_ready"}


class BusinessMetrics:
    def __init__(self, registry: CollectorRegistry, rules: CountingRules, calendar: WorkCalendar,
                 due_soon_working_hours: float) -> None:
        self.rules, self.calendar, self.due_soon_hours = rules, calendar, due_soon_working_hours
        self.judge = Judge(rules)
        self.open = Gauge("onestop_cases_open", "Dossiers received and not yet resolved, by DVCQG state",
                          ["agency", "state"], registry=registry)
        self.overdue = Gauge("onestop_cases_overdue", "Pending dossiers past their appointment (quá hạn)",
                             ["agency"], registry=registry)
        self.due_soon = Gauge("onestop_cases_due_soon",
                              "Pending dossiers within the due-soon window of their appointment, not yet overdue",
                              ["agency"], registry=registry)
        self.on_time = Gauge("onestop_on_time_ratio",
                             "Resolved early or on time / resolved, last 30 local days (Form 06 cols (8+9)/7)",
                             ["agency"], registry=registry)
        self.e_certification = Gauge(
            "onestop_e_certification_ratio",
            "Electronic certification acts / all certification acts, last 30 local days (docs/domain.md §4.2)",
            ["agency"], registry=registry)
        self.resolved = Counter("onestop_dossiers_resolved", "Dossier endings applied live, by timeliness",
                                ["agency", "timeliness"], registry=registry)
        self._resolved = Children(self.resolved)
        self.refreshed = Gauge("onestop_reporting_gauges_refreshed_timestamp_seconds",
                               "When the business gauges were last computed", registry=registry)

    def count(self, endings: Iterable[FactState]) -> None:
        for state in endings:  # reportable and resolved
            assert state.resolved_at is not None and state.appointment_at is not None
            # Judge.resolution(state.fact_row(), resolved_at, FAR_FUTURE) without building and validating a
            # FactRow per ending: known at the end of time, the appointment is the one in force now.
            timeliness = self.judge.resolution_against(state.outcome, state.appointment_at, state.resolved_at)
            self._resolved(state.competent_agency, timeliness).inc()

    async def refresh(self, engine: AsyncEngine, now: datetime) -> None:
        baked = Baked(self.rules.timezone, self.rules.judge_to_minute)
        async with engine.begin() as conn:
            pending, settled = await conn.run_sync(gauge_rows, baked, now, ON_TIME_WINDOW_DAYS)
            certified = await conn.run_sync(certification_gauge_rows, baked, now, ON_TIME_WINDOW_DAYS)
        self._publish(pending, settled, now)
        self._publish_certified(certified)

    def _publish_certified(self, rows: Sequence[tuple[str, str, int, int]]) -> None:
        per_agency: dict[str, Certifications] = defaultdict(Certifications)
        for agency, medium, acts, copies in rows:
            per_agency[agency] = per_agency[agency].add(medium, acts, copies)
        self.e_certification.clear()  # then set at once: a scrape (same event loop) never sees half of it
        for agency, found in per_agency.items():
            value = found.e_certification.value
            if value is not None:
                self.e_certification.labels(agency).set(value)

    def _publish(self, pending: Sequence[Any], settled: Sequence[Any], now: datetime) -> None:
        open_: dict[tuple[str, str], int] = defaultdict(int)
        overdue: dict[str, int] = defaultdict(int)
        due_soon: dict[str, int] = defaultdict(int)
        for agency, state, appointment, waiting_since in pending:
            open_[(agency, STATE_NAMES.get(state or 2, "other"))] += 1
            overdue.setdefault(agency, 0)
            due_soon.setdefault(agency, 0)
            waiting = waiting_since is not None and waiting_since <= now
            if self.rules.supplement_within_deadline and waiting:
                continue
            if now >= self.judge.late_from(appointment):
                overdue[agency] += 1
            elif not waiting and self.calendar.working_hours_between(now, appointment) <= self.due_soon_hours:
                due_soon[agency] += 1
        good: dict[str, float] = defaultdict(float)
        total: dict[str, float] = defaultdict(float)
        for agency, outcome_class, timeliness, n in settled:
            if timeliness == "irregular":
                continue
            total[agency] += n
            closing = outcome_class == "closing" and self.rules.withdrawn_stopped_on_time
            if closing or timeliness in ("early", "on_time"):
                good[agency] += n
        # All in one synchronous step: a scrape (same event loop) never sees half an update.
        for gauge in (self.open, self.overdue, self.due_soon, self.on_time):
            gauge.clear()
        for (agency, state), n in open_.items():
            self.open.labels(agency, state).set(n)
        for agency, n in overdue.items():
            self.overdue.labels(agency).set(n)
        for agency, n in due_soon.items():
            self.due_soon.labels(agency).set(n)
        for agency, n in total.items():
            self.on_time.labels(agency).set(good[agency] / n)
        self.refreshed.set(now.timestamp())

    def loop(self, engine: AsyncEngine, clock: Clock, interval: float) -> Callable[[], Coroutine[Any, Any, None]]:
        async def business_gauges() -> None:
            while True:
                try:
                    await self.refresh(engine, clock.now())
                except Exception:  # the database may be away for a while; try again next round
                    log.warning("business gauges not refreshed", exc_info=True)
                await asyncio.sleep(interval)

        return business_gauges
