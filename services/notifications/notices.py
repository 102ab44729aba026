"""The notice book (use case of the consumer side): applies intake/processing events a batch at a time —
keeps each dossier's contact and state, and RECORDS the notices the events call for (sending is the
delivery loop's job, delivery.py).

A batch is a few set-based statements, not a few per event: load the batch's dossiers (locked), the notices
held for them and the stored notices the batch may expire; plan in pure code (domain/planning.py); write
contacts, held notices, notices and steps. The batch handler (handlers.py) stages the outcome events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from libs.contracts import Envelope, Event
from services.notifications.adapters.config import NotificationsConfig
from services.notifications.domain.facts import event_time, facts_of
from services.notifications.domain.planning import (
    BatchOutcome,
    Pending,
    check_event,
    expire_steps,
    plan_batch,
    settle_batch,
)
from services.notifications.store import (
    delete_held,
    insert_dossiers,
    insert_held,
    insert_notices,
    load_dossiers,
    load_held,
    load_open_notices,
    save_steps,
    update_dossiers,
)


class NoticeBook:
    def __init__(self, config: NotificationsConfig) -> None:
        self.config = config

    def read(
        self, event: Event, envelope: Envelope, now: datetime, origin: int, trace: str | None = None
    ) -> Pending:
        """One event of the batch, read and checked: raises (MissingContextError, ValidationError) when its
        own data cannot make the notice it calls for, whatever the dossier — the consumer then dead-letters
        that event alone. `trace`: its traceparent, kept with the notices it calls for."""
        facts = facts_of(event)
        check_event(facts, self.config)
        at = event_time(event, envelope)
        return Pending(event.dossier_id, event.code, envelope.id, facts, at, now, origin, trace)

    def record(self, conn: Connection, items: list[Pending]) -> BatchOutcome:
        """The batch's unit of work, inside the consumer's transaction (ConcurrentChangeError, transient, when
        another consumer created one of its dossiers meanwhile). Returns the outcome events to stage and the
        metric samples to count once committed."""
        now = items[-1].now
        ids = list(dict.fromkeys(i.dossier_id for i in items))
        dossiers = load_dossiers(conn, ids)
        with_contact = {i.dossier_id for i in items if i.facts.contact is not None}
        unknown = [d for d, row in dossiers.items() if not row.contact_known and d in with_contact]
        plan = plan_batch(items, dossiers, load_held(conn, unknown), self.config)
        # Stored notices the batch may expire, read before this batch's own are written.
        moved, kinds = plan.stored_to_check()
        stored = load_open_notices(conn, moved, kinds)

        insert_dossiers(conn, [plan.dossiers[d] for d in plan.created])
        update_dossiers(conn, [row for d, row in plan.dossiers.items() if d not in plan.created])
        insert_held(conn, plan.held)
        delete_held(conn, sorted(plan.released))
        written = insert_notices(conn, [new.notice for new in plan.notices.values()])
        steps = expire_steps(stored, plan.moves)
        saved = save_steps(conn, [s for s, _ in steps], now)
        return settle_batch(plan, written, steps, saved, now)
