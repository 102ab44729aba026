"""The desk follows the workflow: processing's case events mirrored on the dossiers and kept in their history.

A consumer batch is applied as a whole, in the consumer's transaction: one SELECT of the desk columns FOR
UPDATE, the domain's `follow` for each event in order, one UPDATE of the dossiers that moved, one SELECT of the
dossiers' last chain links and one INSERT of the history rows, chained in memory (store/chain.py) — four
statements a batch instead of four an event. What the desk cannot read (a state code it does not know) refuses
the batch, so the consumer re-applies it event by event and dead-letters that one."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.processing import CaseEvent
from libs.messaging import Delivered
from services.intake.domain import desk as rules
from services.intake.domain.desk import CaseUpdate, kind_of
from services.intake.domain.states import DeskState
from services.intake.store import dossiers
from services.intake.store.rows import case_history

log = logging.getLogger(__name__)
Followed = list[tuple[Delivered[CaseEvent], CaseUpdate]]


async def on_case_events(session: AsyncSession, batch: list[Delivered[CaseEvent]]) -> None:
    """Mirror the batch's events at the desk, writing before the caller's commit; unknown dossiers are logged."""
    followed = [(item, case_update(item.event, item.envelope.type)) for item in batch]
    for _, change in followed:
        DeskState.from_code(change.state_code)  # ValueError for a state code the desk does not know
    unknown = await session.run_sync(_follow, followed)
    for item in unknown:
        with item.traced():
            log.warning("processing event %s for a dossier intake does not know (%s)",
                        item.envelope.type, item.event.code)


def _follow(session: Session, followed: Followed) -> list[Delivered[CaseEvent]]:
    """Apply the events in order on the locked dossiers; returns the events of dossiers intake does not know."""
    conn = session.connection()
    found = dossiers.lock_desks(conn, sorted({item.event.dossier_id for item, _ in followed}))
    before = {dossier_id: replace(d) for dossier_id, d in found.items()}
    history: list[dict[str, Any]] = []
    unknown: list[Delivered[CaseEvent]] = []
    for item, change in followed:
        d = found.get(item.event.dossier_id)
        if d is None:
            unknown.append(item)
            continue
        rules.follow(d, change)
        history.append(case_history(item.event, item.envelope))
    dossiers.save_desks(conn, [(dossier_id, d) for dossier_id, d in found.items() if d != before[dossier_id]])
    dossiers.add_case_history(conn, history)
    return unknown


def case_update(event: CaseEvent, ce_type: str) -> CaseUpdate:
    """What the desk needs from one of processing's events."""
    electronic = getattr(event, "electronic", None)
    return CaseUpdate(
        kind=kind_of(ce_type), state_code=event.state, agency=event.agency, at=event.at, sub_state=event.sub_state,
        step_name=event.step_name, appointment_at=getattr(event, "appointment_at", None),
        electronic=electronic if isinstance(electronic, bool) else None,
    )
