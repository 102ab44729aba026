"""Applying events to one generation of the read model (live or replayed): the one path both take.

The live consumer hands `apply_events` the events of one consumer batch inside that batch's transaction
(handlers.py), the rebuild hands it thousands per transaction (rebuild.py). Same fold, same rollup diffs,
so a rebuilt generation equals the live one. Per batch: one claim (record the event ids, load the rows of
their dossiers), the fold in memory (domain/projection.py), one write (rows and rollup deltas).

Synchronous SQLAlchemy: async callers use `AsyncConnection.run_sync`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from libs.calendar import WorkCalendar
from services.reporting.domain.projection import (
    Baked,
    Item,
    certification_batch,
    first_of_each,
    fold_batch,
    is_certification,
)
from services.reporting.domain.state import FactState
from services.reporting.store.tables import GenerationTables
from services.reporting.store.writer import GenerationWriter


def apply_events(conn: Connection, tables: GenerationTables, baked: Baked, items: Sequence[Item],
                 calendar: WorkCalendar) -> tuple[int, list[FactState]]:
    """Apply events (in order) to one generation; events it already holds are skipped. `calendar`: the
    working-day calendar (deploy/config/calendar.yaml) a pause moves the original appointment by.

    Returns how many were applied and the reportable dossiers whose ending they made known. An event the fold
    cannot apply is recorded as applied, its row left as the fold left it (`fold_batch`)."""
    items = first_of_each(items)
    writer = GenerationWriter(conn, tables)
    # Certification acts are claimed like any event but fold into their own daily facts, never a dossier's row.
    dossiers = list(dict.fromkeys(event.dossier_id for _, event, _ in items if not is_certification(event)))
    fresh, states = writer.claim([event_id for event_id, _, _ in items], dossiers)
    todo = [item for item in items if item[0] in fresh]
    if not todo:
        return 0, []
    touched = {event.dossier_id for _, event, _ in todo if not is_certification(event)}
    states = {dossier: state for dossier, state in states.items() if dossier in touched}
    deltas, endings = fold_batch(states, todo, baked, calendar)
    writer.write(list(states.values()), deltas)
    writer.certify(certification_batch(todo, baked))
    return len(todo), endings
