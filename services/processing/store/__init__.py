"""Processing's store: the only home of its SQL.

- `tables`: cases, the case event log, outbox and inbox (the metadata the migrations are checked against);
- `cases`: a case's query columns, load, lock, the version-checked save, the work-queue search, new cases;
- `events`: the case event log; `outbox`: outbox rows staged in one INSERT;
- `sweep`: the deadline sweep's candidate queries and its version-checked write-back;

Every batch path is set-based: one statement per kind of row for the whole batch (or sweep page)."""

from services.processing.store.cases import (
    ConcurrentUpdate,
    OfficerChange,
    case_of,
    columns,
    get,
    insert_cases,
    lock,
    new_row,
    new_values,
    officer_change,
    save,
    search,
)
from services.processing.store.events import event_row, events_of, insert_events
from services.processing.store.outbox import insert_outbox
from services.processing.store.sweep import Candidate, save_swept, sweep_keys, sweep_page
from services.processing.store.tables import CASES, EVENTS, INBOX, OUTBOX, CaseEventRow, CaseRow, metadata

__all__ = [
    "CASES", "EVENTS", "INBOX", "OUTBOX", "Candidate", "CaseEventRow", "CaseRow", "ConcurrentUpdate", "OfficerChange",
    "case_of", "columns", "event_row", "events_of", "get", "insert_cases", "insert_events", "insert_outbox", "lock",
    "metadata", "new_row", "new_values", "officer_change", "save", "save_swept", "search", "sweep_keys", "sweep_page",
]
