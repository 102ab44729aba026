"""The only home of notifications' SQL: its tables (tables.py), the contacts and held notices (contacts.py),
the notices (notices.py) and their lifecycle steps with the outcome events they stage (steps.py).

Statements take a synchronous `Connection` (the consumer's batch and the delivery loop run them through
`AsyncConnection.run_sync`), or an `AsyncSession` for the officers' reads. Batch statements go through
`libs.db.bulk` (one fixed statement over array parameters on PostgreSQL, plain statements on SQLite)."""

from services.notifications.store.contacts import (
    ConcurrentChangeError,
    delete_held,
    insert_dossiers,
    insert_held,
    load_dossiers,
    load_held,
    update_dossiers,
)
from services.notifications.store.notices import (
    insert_notices,
    load_due,
    load_interrupted,
    load_notice,
    load_open_notices,
    notice_at_agency,
    notice_of,
    notice_row,
    notices_of_dossier,
    retry_queue,
)
from services.notifications.store.steps import record_steps, save_steps, stage_outbox, steps_connection
from services.notifications.store.tables import (
    CONTACTS,
    HELD,
    INBOX,
    NOTICES,
    OPEN,
    OUTBOX,
    ContactRow,
    HeldNoticeRow,
    NoticeRow,
    metadata,
)

__all__ = [
    "CONTACTS", "HELD", "INBOX", "NOTICES", "OPEN", "OUTBOX", "ConcurrentChangeError", "ContactRow", "HeldNoticeRow",
    "NoticeRow", "delete_held", "insert_dossiers", "insert_held", "insert_notices", "load_dossiers", "load_due",
    "load_held", "load_interrupted", "load_notice", "load_open_notices", "metadata", "notice_at_agency", "notice_of",
    "notice_row", "notices_of_dossier", "record_steps", "retry_queue", "save_steps", "stage_outbox",
    "steps_connection", "update_dossiers",
]
