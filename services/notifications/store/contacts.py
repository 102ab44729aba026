"""The `contacts` rows (a dossier's contact and state) and the notices held until the contact is known:
read and written a batch at a time, a statement per kind of change (through libs.db.bulk)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Connection, delete, select

from libs.db.bulk import insert_rows, member_of, update_rows
from libs.messaging import TransientError
from services.notifications.domain.records import HELD_FIELDS, Dossier, Held
from services.notifications.store.tables import CONTACTS, HELD


def as_uuid(value: Any) -> UUID:
    return value if type(value) is UUID else UUID(str(value))  # asyncpg's own UUID class → uuid.UUID


def load_dossiers(conn: Connection, ids: list[UUID]) -> dict[UUID, Dossier]:
    """The contacts rows of these dossiers, locked until the transaction ends (PostgreSQL; in id order, so
    two consumers locking overlapping sets do not deadlock; SQLite has no row locks: its writers are
    serialised anyway)."""
    stmt = (select(CONTACTS).where(member_of(conn, CONTACTS.c.dossier_id))
            .order_by(CONTACTS.c.dossier_id).with_for_update())
    out = {}
    for row in conn.execute(stmt, {"ids": ids}).tuples():
        d = Dossier(*row)
        d.dossier_id = as_uuid(d.dossier_id)
        out[d.dossier_id] = d
    return out


class ConcurrentChangeError(TransientError):
    """Rows this unit of work expected to create were created meanwhile (another consumer of the same
    dossier): transient, the batch is rolled back and applied again."""


def insert_dossiers(conn: Connection, rows: list[Dossier]) -> None:
    """Create contacts rows that did not exist when the batch read them; ConcurrentChangeError when one
    was created meanwhile (its events must then be applied to that row, not over it)."""
    written = insert_rows(conn, CONTACTS, [r.values() for r in rows], skip_existing=True, returning="dossier_id")
    if len(written) < len(rows):
        raise ConcurrentChangeError(f"{len(rows) - len(written)} dossier row(s) created concurrently")


def update_dossiers(conn: Connection, rows: list[Dossier]) -> None:
    update_rows(conn, CONTACTS, "dossier_id", [r.values() for r in rows])


# -- held notices -----------------------------------------------------------------------------------------

def load_held(conn: Connection, ids: list[UUID]) -> dict[UUID, list[Held]]:
    out: dict[UUID, list[Held]] = {}
    if ids:
        stmt = select(HELD).where(member_of(conn, HELD.c.dossier_id))
        for row in conn.execute(stmt, {"ids": ids}).mappings():
            held = Held(**{**row, "dossier_id": as_uuid(row["dossier_id"])})
            out.setdefault(held.dossier_id, []).append(held)
    return out


def insert_held(conn: Connection, rows: list[Held]) -> None:
    insert_rows(conn, HELD, [{n: getattr(h, n) for n in HELD_FIELDS} for h in rows], skip_existing=True)


def delete_held(conn: Connection, ids: list[UUID]) -> None:
    if ids:
        conn.execute(delete(HELD).where(member_of(conn, HELD.c.dossier_id)), {"ids": ids})
