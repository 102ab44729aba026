"""Notifications' own tables: what it knows of each dossier (contact, state), notices and their delivery state,
and the set-based statements the consumer and the delivery loop use (a handful per batch, not per notice).

The statements take a synchronous `Connection`: the consumer runs them just before its batch commits
(`before_commit`), the delivery loop through `AsyncConnection.run_sync`. PostgreSQL gets array parameters
(one statement text whatever the batch size); SQLite, the embedded default, plain statements."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import JSON, Connection, Index, Table, Uuid, and_, any_, bindparam, delete, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from libs.db.sql import pg_array
from libs.db.types import UTCDateTime
from libs.messaging import TransientError
from libs.runtime import messaging_tables
from services.notifications.domain import NoticeProgress, NoticeStatus

log = logging.getLogger(__name__)


class Base(SQLModel, registry=registry()):
    pass


metadata = Base.metadata
messaging_tables(metadata, outbox=True, inbox=True)


class ContactRow(Base, table=True):
    """One row per dossier: how to reach the applicant (only this service keeps it) and the dossier's
    latest state as far as notifications knows it. A processing event that arrives before the dossier's
    receipt creates the row without a contact (`contact_known` false); its notices wait in `held_notices`."""

    __tablename__ = "contacts"

    dossier_id: UUID = Field(primary_key=True)
    code: str = Field(index=True, max_length=64)
    full_name: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)
    agency_name: str = Field(default="", max_length=200)
    dossier_state: str = Field(default="received", max_length=40)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    contact_known: bool = True
    receiving_agency: str = Field(default="", index=True, max_length=64)  # officer scoping
    procedure_name: str = Field(default="", max_length=300)
    appointment_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rejection_reason: str | None = Field(default=None, max_length=1000)
    state_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # time of the event that set the state


_PENDING = text("status IN ('created', 'temporary_failure')")


class NoticeRow(Base, table=True):
    __tablename__ = "notices"
    # The delivery claim's index: only notices that may still go out, in the claim's order. Over all rows
    # (status, next_attempt_at), PostgreSQL read the whole table for each claim (4–9 ms at 20,000 dossiers,
    # growing): a notice's `created` entry outlives it until vacuum.
    __table_args__ = (Index("ix_notices_pending", "created_at", postgresql_where=_PENDING, sqlite_where=_PENDING),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    key: str = Field(unique=True, max_length=200)  # (dossier, event id, channel): never sent twice
    dossier_id: UUID = Field(index=True)
    code: str = Field(index=True, max_length=64)
    event_id: str = Field(max_length=64)
    kind: str = Field(max_length=40)
    channel: str = Field(max_length=10)
    recipient: str = Field(max_length=254)
    status: str = Field(index=True, max_length=30)
    attempts: int = 0
    reason: str | None = Field(default=None, max_length=1000)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)  # in `sending`: when the attempt started
    context: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # template variables (NoticeContext)
    first_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    provider_id: str | None = Field(default=None, max_length=200)


class HeldNoticeRow(Base, table=True):
    """A notice an event asked for before the dossier's contact was known (events of two topics may be
    read out of order); turned into notices when DossierReceived / DossierRefused arrives."""

    __tablename__ = "held_notices"

    event_id: str = Field(primary_key=True, max_length=64)
    dossier_id: UUID = Field(index=True)
    kind: str = Field(max_length=40)
    extra: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # kind-specific template variables
    event_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


CONTACTS: Table = ContactRow.__table__  # type: ignore[attr-defined]
NOTICES: Table = NoticeRow.__table__  # type: ignore[attr-defined]
HELD: Table = HeldNoticeRow.__table__  # type: ignore[attr-defined]
OUTBOX: Table = metadata.tables["outbox"]
OPEN = (NoticeStatus.CREATED.value, NoticeStatus.TEMPORARY_FAILURE.value)  # may still be sent or expired


# -- rows in memory (plain dataclasses: no ORM identity map or change tracking on the hot paths) ----------


@dataclass(slots=True)
class Dossier:
    """A `contacts` row."""

    dossier_id: UUID
    code: str
    full_name: str = ""
    phone: str | None = None
    email: str | None = None
    agency_name: str = ""
    dossier_state: str = "submitted"
    updated_at: datetime | None = None
    contact_known: bool = False
    receiving_agency: str = ""
    procedure_name: str = ""
    appointment_at: datetime | None = None
    rejection_reason: str | None = None
    state_at: datetime | None = None

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CONTACT_COLUMNS}


CONTACT_COLUMNS = tuple(c.name for c in CONTACTS.columns)
assert tuple(Dossier.__dataclass_fields__) == CONTACT_COLUMNS, "Dossier mirrors the contacts table, in order"


@dataclass(frozen=True, slots=True)
class Notice:
    """A `notices` row as read (or as written) by a unit of work."""

    id: UUID
    key: str
    dossier_id: UUID
    code: str
    event_id: str
    kind: str
    channel: str
    recipient: str
    status: str
    attempts: int = 0
    reason: str | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    context: dict[str, Any] = field(default_factory=dict)
    first_attempt_at: datetime | None = None
    provider_id: str | None = None


NOTICE_COLUMNS = tuple(c.name for c in NOTICES.columns)
assert set(NOTICE_COLUMNS) == set(Notice.__dataclass_fields__), "Notice mirrors the notices table"


@dataclass(frozen=True, slots=True)
class Held:
    """A `held_notices` row."""

    event_id: str
    dossier_id: UUID
    kind: str
    extra: dict[str, Any]
    event_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Step:
    """One lifecycle step of a notice, written only if the notice is still as it was read."""

    notice: Notice
    before: NoticeProgress
    after: NoticeProgress


def progress_of(row: Notice) -> NoticeProgress:
    return NoticeProgress(
        status=NoticeStatus(row.status), attempts=row.attempts, first_attempt_at=row.first_attempt_at,
        next_attempt_at=row.next_attempt_at, reason=row.reason or "", provider_id=row.provider_id,
    )


def _pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _insert(conn: Connection, table: Table) -> Any:
    return postgresql.insert(table) if _pg(conn) else sqlite.insert(table)


def _uuid(value: Any) -> UUID:
    return value if type(value) is UUID else UUID(str(value))  # asyncpg's own UUID class → uuid.UUID


def _pg_array_in(column: Any, name: str, item: Any) -> Any:
    """`column = ANY(:name)`: one statement text whatever the number of values (PostgreSQL)."""
    return column == any_(bindparam(name, type_=postgresql.ARRAY(item)))


# -- contacts ---------------------------------------------------------------------------------------------

_CONTACTS_BY_ID = {
    "pg": select(CONTACTS).where(_pg_array_in(CONTACTS.c.dossier_id, "ids", Uuid()))
    .order_by(CONTACTS.c.dossier_id).with_for_update(),
    "any": select(CONTACTS).where(CONTACTS.c.dossier_id.in_(bindparam("ids", expanding=True))),
}


def load_dossiers(conn: Connection, ids: list[UUID]) -> dict[UUID, Dossier]:
    """The contacts rows of these dossiers, locked until the transaction ends (PostgreSQL; in id order, so
    two consumers locking overlapping sets do not deadlock)."""
    stmt = _CONTACTS_BY_ID["pg" if _pg(conn) else "any"]
    rows = conn.execute(stmt, {"ids": ids}).tuples()
    out = {}
    for row in rows:
        d = Dossier(*row)
        d.dossier_id = _uuid(d.dossier_id)
        out[d.dossier_id] = d
    return out


class ConcurrentChangeError(TransientError):
    """Rows this unit of work expected to create were created meanwhile (another consumer of the same
    dossier): transient, the batch is rolled back and applied again."""


def insert_dossiers(conn: Connection, rows: list[Dossier]) -> None:
    """Create contacts rows that did not exist when the batch read them; ConcurrentChangeError when one
    was created meanwhile (its events must then be applied to that row, not over it)."""
    if not rows:
        return
    stmt = _insert(conn, CONTACTS).on_conflict_do_nothing().returning(CONTACTS.c.dossier_id)
    written = set(conn.execute(stmt, [r.values() for r in rows]).scalars())
    if len(written) < len(rows):
        raise ConcurrentChangeError(f"{len(rows) - len(written)} dossier row(s) created concurrently")


def _unnest(table: Table, names: tuple[str, ...], params: tuple[str, ...] | None = None) -> str:
    params = params or names
    arrays = ", ".join(pg_array(p, table.c[n]) for n, p in zip(names, params, strict=True))
    return f"unnest({arrays}) AS v({', '.join(params)})"


_CONTACT_SET = tuple(n for n in CONTACT_COLUMNS if n != "dossier_id")
_PG_UPDATE_CONTACTS = text(
    f"UPDATE contacts AS c SET {', '.join(f'{n} = v.{n}' for n in _CONTACT_SET)} "
    f"FROM {_unnest(CONTACTS, CONTACT_COLUMNS)} WHERE c.dossier_id = v.dossier_id"
)
_UPDATE_CONTACT = (
    update(CONTACTS).where(CONTACTS.c.dossier_id == bindparam("b_dossier_id"))
    .values({n: bindparam(n) for n in _CONTACT_SET})
)


def update_dossiers(conn: Connection, rows: list[Dossier]) -> None:
    if not rows:
        return
    if _pg(conn):
        conn.execute(_PG_UPDATE_CONTACTS, {n: [getattr(r, n) for r in rows] for n in CONTACT_COLUMNS})
        return
    conn.execute(_UPDATE_CONTACT, [{"b_dossier_id": r.dossier_id, **{n: getattr(r, n) for n in _CONTACT_SET}}
                                   for r in rows])


# -- held notices -----------------------------------------------------------------------------------------

_HELD_BY_DOSSIER = {
    "pg": select(HELD).where(_pg_array_in(HELD.c.dossier_id, "ids", Uuid())),
    "any": select(HELD).where(HELD.c.dossier_id.in_(bindparam("ids", expanding=True))),
}


def load_held(conn: Connection, ids: list[UUID]) -> dict[UUID, list[Held]]:
    out: dict[UUID, list[Held]] = {}
    if ids:
        for row in conn.execute(_HELD_BY_DOSSIER["pg" if _pg(conn) else "any"], {"ids": ids}).mappings():
            held = Held(**{**row, "dossier_id": _uuid(row["dossier_id"])})
            out.setdefault(held.dossier_id, []).append(held)
    return out


def insert_held(conn: Connection, rows: list[Held]) -> None:
    if rows:
        conn.execute(_insert(conn, HELD).on_conflict_do_nothing().returning(HELD.c.event_id),
                     [{n: getattr(h, n) for n in Held.__dataclass_fields__} for h in rows])


def delete_held(conn: Connection, ids: list[UUID]) -> None:
    if ids:
        conn.execute(delete(HELD).where(HELD.c.dossier_id.in_(ids)))


# -- notices ----------------------------------------------------------------------------------------------


def notice_of(row: Any) -> Notice:
    values = dict(row)
    values["id"], values["dossier_id"] = _uuid(values["id"]), _uuid(values["dossier_id"])
    return Notice(**values)


def insert_notices(conn: Connection, rows: list[Notice]) -> set[str]:
    """Record notices unless recorded before (same key); returns the keys written."""
    if not rows:
        return set()
    stmt = _insert(conn, NOTICES).on_conflict_do_nothing().returning(NOTICES.c.key)
    return set(conn.execute(stmt, [{n: getattr(r, n) for n in NOTICE_COLUMNS} for r in rows]).scalars())


_OPEN_OF_DOSSIERS = {
    "pg": select(NOTICES).where(_pg_array_in(NOTICES.c.dossier_id, "ids", Uuid()),
                                NOTICES.c.status.in_(OPEN), NOTICES.c.kind.in_(bindparam("kinds", expanding=True))),
    "any": select(NOTICES).where(NOTICES.c.dossier_id.in_(bindparam("ids", expanding=True)),
                                 NOTICES.c.status.in_(OPEN), NOTICES.c.kind.in_(bindparam("kinds", expanding=True))),
}


def load_open_notices(conn: Connection, ids: list[UUID], kinds: list[str]) -> list[Notice]:
    """Notices of these dossiers and kinds that may still be sent (or expired)."""
    if not ids or not kinds:
        return []
    stmt = _OPEN_OF_DOSSIERS["pg" if _pg(conn) else "any"]
    return [notice_of(row) for row in conn.execute(stmt, {"ids": ids, "kinds": kinds}).mappings()]


_DUE = or_(
    NOTICES.c.status == NoticeStatus.CREATED.value,
    and_(NOTICES.c.status == NoticeStatus.TEMPORARY_FAILURE.value, NOTICES.c.next_attempt_at <= bindparam("now")),
)
# The dossier's state as a correlated subquery, looked up by primary key for the (at most `limit`) rows
# returned: as a join, PostgreSQL hashed the whole contacts table for every claim (~6 ms at 20,000 dossiers).
_STATE_OF_NOTICE = (select(CONTACTS.c.dossier_state).where(CONTACTS.c.dossier_id == NOTICES.c.dossier_id)
                    .scalar_subquery().label("dossier_state"))
_DUE_QUERY = (
    select(NOTICES, _STATE_OF_NOTICE)
    .where(_DUE)
    .order_by(NOTICES.c.created_at)
    .limit(bindparam("limit"))
)
_DUE_BY_DIALECT = {"pg": _DUE_QUERY.with_for_update(skip_locked=True, of=NOTICES), "any": _DUE_QUERY}


def load_due(conn: Connection, now: datetime, limit: int) -> list[tuple[Notice, str]]:
    """Notices due for an attempt, oldest first, with their dossier's state; locked (SKIP LOCKED: replicas
    take different notices) on PostgreSQL."""
    rows = conn.execute(_DUE_BY_DIALECT["pg" if _pg(conn) else "any"], {"now": now, "limit": limit}).mappings()
    out = []
    for row in rows:
        values = dict(row)
        state = values.pop("dossier_state")
        if state is None:  # cannot happen (a notice is made from its contact); never send without one
            log.error("notice %s has no contact row; left unsent", values["id"])
            continue
        out.append((notice_of(values), state))
    return out


_INTERRUPTED_QUERY = (
    select(NOTICES)
    .where(NOTICES.c.status == NoticeStatus.SENDING.value, NOTICES.c.updated_at < bindparam("cutoff"))
    .limit(bindparam("limit"))
)
_INTERRUPTED_BY_DIALECT = {"pg": _INTERRUPTED_QUERY.with_for_update(skip_locked=True), "any": _INTERRUPTED_QUERY}


def load_interrupted(conn: Connection, cutoff: datetime, limit: int) -> list[Notice]:
    """Notices left in `sending` since before the cutoff (their attempt was interrupted)."""
    stmt = _INTERRUPTED_BY_DIALECT["pg" if _pg(conn) else "any"]
    return [notice_of(row) for row in conn.execute(stmt, {"cutoff": cutoff, "limit": limit}).mappings()]


def load_notice(conn: Connection, notice_id: UUID) -> Notice | None:
    stmt = select(NOTICES).where(NOTICES.c.id == notice_id)
    if _pg(conn):
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    return None if row is None else notice_of(row)


_STEP_NAMES = ("id", "status", "attempts", "first_attempt_at", "next_attempt_at", "reason", "provider_id")
_STEP_PARAMS = ("id", "was", "was_attempts", "status", "attempts", "first_attempt_at", "next_attempt_at", "reason",
                "provider_id")
_PG_SAVE_STEPS_SQL = (
    "UPDATE notices AS n SET status = v.status, attempts = v.attempts, first_attempt_at = v.first_attempt_at, "
    "next_attempt_at = v.next_attempt_at, reason = v.reason, provider_id = v.provider_id, updated_at = :now "
    f"FROM {_unnest(NOTICES, ('id', 'status', 'attempts', *_STEP_NAMES[1:]), _STEP_PARAMS)} "
    "WHERE n.id = v.id AND n.status = v.was AND n.attempts = v.was_attempts RETURNING n.id"
)
_PG_SAVE_STEPS = text(_PG_SAVE_STEPS_SQL)
_SAVE_STEP = (
    update(NOTICES)
    .where(NOTICES.c.id == bindparam("b_id"), NOTICES.c.status == bindparam("b_was"),
           NOTICES.c.attempts == bindparam("b_was_attempts"))
    .values({n: bindparam(n) for n in (*_STEP_NAMES[1:], "updated_at")})
)


def _step_values(step: Step) -> dict[str, Any]:
    a = step.after
    return {
        "id": step.notice.id, "was": step.before.status.value, "was_attempts": step.before.attempts,
        "status": a.status.value, "attempts": a.attempts, "first_attempt_at": a.first_attempt_at,
        "next_attempt_at": a.next_attempt_at, "reason": a.reason[:1000] or None,
        "provider_id": (a.provider_id or None) and a.provider_id[:200],
    }


def save_steps(conn: Connection, steps: list[Step], now: datetime) -> set[UUID]:
    """Write lifecycle steps, each only if its notice is still as it was read (status and attempts): a
    concurrent step (sweeper, consumer, another replica) is never overwritten. Returns the ids written.
    One statement on PostgreSQL."""
    if not steps:
        return set()
    values = [_step_values(s) for s in steps]
    if _pg(conn):
        params: dict[str, Any] = {p: [v[p] for v in values] for p in _STEP_PARAMS}
        return {_uuid(i) for i in conn.execute(_PG_SAVE_STEPS, {**params, "now": now}).scalars()}
    written = set()
    for v in values:
        params = {f"b_{k}": v[k] for k in ("id", "was", "was_attempts")}
        params.update({n: v[n] for n in _STEP_NAMES[1:]}, updated_at=now)
        if conn.execute(_SAVE_STEP, params).rowcount:
            written.add(v["id"])
    return written


# -- steps with their outcome events (one statement on PostgreSQL) ------------------------------------------

_OUTBOX_COLUMNS = ("event_id", "event_type", "topic", "key", "headers", "payload", "created_at")
_OUTBOX_TYPES = ("text", "text", "text", "text", "text", "text", "timestamptz")


@lru_cache(maxsize=4)
def _pg_record_steps(outbox: str) -> Any:
    """The steps' UPDATE and the INSERT of the outcome events of the steps it wrote, as one statement: atomic
    on its own, so it needs no BEGIN / COMMIT around it. Events are inserted in the order given."""
    arrays = ", ".join(f"CAST(:o_{n} AS {t}[])" for n, t in zip(_OUTBOX_COLUMNS, _OUTBOX_TYPES, strict=True))
    columns = ", ".join(_OUTBOX_COLUMNS)
    picked = ", ".join("CAST(e.headers AS json)" if n == "headers" else f"e.{n}" for n in _OUTBOX_COLUMNS)
    return text(
        f"WITH s AS ({_PG_SAVE_STEPS_SQL}), "
        f"o AS (INSERT INTO {outbox} ({columns}) SELECT {picked} "
        f"FROM unnest(CAST(:o_notice AS uuid[]), {arrays}) WITH ORDINALITY AS e(notice, {columns}, ord) "
        "WHERE e.notice IN (SELECT id FROM s) ORDER BY e.ord) "
        "SELECT id FROM s"
    )


def record_steps(
    conn: Connection, outbox: Table, steps: list[Step], events: list[tuple[UUID, dict[str, Any]]], now: datetime
) -> set[UUID]:
    """Write lifecycle steps (as save_steps) and stage the outbox rows of those written: `events` are
    (notice id, outbox row), for the steps that have an outcome event. Returns the ids written. One statement
    on PostgreSQL (safe outside a transaction), save_steps + insert_outbox elsewhere."""
    if not steps:
        return set()
    if not _pg(conn) or not events:
        saved = save_steps(conn, steps, now)
        insert_outbox(conn, outbox, [row for nid, row in events if nid in saved])
        return saved
    values = [_step_values(s) for s in steps]
    params: dict[str, Any] = {p: [v[p] for v in values] for p in _STEP_PARAMS}
    params["now"] = now
    params["o_notice"] = [nid for nid, _ in events]
    for name in _OUTBOX_COLUMNS:
        column = [row[name] for _, row in events]
        params[f"o_{name}"] = [json.dumps(h) for h in column] if name == "headers" else column
    return {_uuid(i) for i in conn.execute(_pg_record_steps(outbox.name), params).scalars()}


# -- outbox -----------------------------------------------------------------------------------------------

def insert_outbox(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Stage outbox rows in one statement (RETURNING makes SQLAlchemy batch them into one INSERT)."""
    if rows:
        conn.execute(table.insert().returning(table.c.id), rows)
