"""Lifecycle steps of stored notices, each written only if its notice is still as it was read, and the outbox
rows of the outcome events they cause: a statement or two per batch of steps, not a few per notice.

Two statements here only PostgreSQL can say, chosen through `libs.db.bulk.Dialects` (the portable path is
the plain one): the steps as one UPDATE … FROM unnest(…) RETURNING, and that UPDATE together with the
INSERT of the outcome events of the steps it wrote, as ONE statement — atomic on its own, so the delivery
loop runs it without BEGIN / COMMIT (`steps_connection`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Table, bindparam, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from libs.db.bulk import Dialects, insert_rows, unnest
from services.notifications.domain.records import Step
from services.notifications.store.contacts import as_uuid
from services.notifications.store.tables import NOTICES


def stage_outbox(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Stage outbox rows (`libs.messaging.outbox_row`) in one statement."""
    insert_rows(conn, table, rows)


def _step_values(step: Step) -> dict[str, Any]:
    a = step.after
    return {
        "id": step.notice.id, "was": step.before.status.value, "was_attempts": step.before.attempts,
        "status": a.status.value, "attempts": a.attempts, "first_attempt_at": a.first_attempt_at,
        "next_attempt_at": a.next_attempt_at, "reason": a.reason[:1000] or None,
        "provider_id": (a.provider_id or None) and a.provider_id[:200],
    }


_STEP_NAMES = ("id", "status", "attempts", "first_attempt_at", "next_attempt_at", "reason", "provider_id")
_STEP_PARAMS = ("id", "was", "was_attempts", "status", "attempts", "first_attempt_at", "next_attempt_at", "reason",
                "provider_id")


# -- PostgreSQL: one UPDATE over array parameters -----------------------------------------------------------

_PG_SAVE_STEPS_SQL = (
    "UPDATE notices AS n SET status = v.status, attempts = v.attempts, first_attempt_at = v.first_attempt_at, "
    "next_attempt_at = v.next_attempt_at, reason = v.reason, provider_id = v.provider_id, updated_at = :now "
    f"FROM {unnest(NOTICES, ('id', 'status', 'attempts', *_STEP_NAMES[1:]), _STEP_PARAMS)} "
    "WHERE n.id = v.id AND n.status = v.was AND n.attempts = v.was_attempts RETURNING n.id"
)
_PG_SAVE_STEPS = text(_PG_SAVE_STEPS_SQL)


def _step_arrays(steps: list[Step], now: datetime) -> dict[str, Any]:
    values = [_step_values(s) for s in steps]
    return {**{p: [v[p] for v in values] for p in _STEP_PARAMS}, "now": now}


def _pg_save_steps(conn: Connection, steps: list[Step], now: datetime) -> set[UUID]:
    return {as_uuid(i) for i in conn.execute(_PG_SAVE_STEPS, _step_arrays(steps, now)).scalars()}


_OUTBOX_COLUMNS = ("event_id", "event_type", "topic", "key", "headers", "payload", "created_at")
_OUTBOX_TYPES = ("text", "text", "text", "text", "text", "text", "timestamptz")


@lru_cache(maxsize=4)
def _pg_record_statement(outbox: str) -> Any:
    """The steps' UPDATE and the INSERT of the outcome events of the steps it wrote, as one statement.
    Events are inserted in the order given."""
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


def _pg_record_steps(conn: Connection, outbox: Table, steps: list[Step], events: list[tuple[UUID, dict[str, Any]]],
                     now: datetime) -> set[UUID]:
    if not events:
        return _pg_save_steps(conn, steps, now)
    params = _step_arrays(steps, now)
    params["o_notice"] = [nid for nid, _ in events]
    for name in _OUTBOX_COLUMNS:
        column = [row[name] for _, row in events]
        params[f"o_{name}"] = [json.dumps(h) for h in column] if name == "headers" else column
    return {as_uuid(i) for i in conn.execute(_pg_record_statement(outbox.name), params).scalars()}


# -- elsewhere: a conditional UPDATE per step, then the outbox INSERT ---------------------------------------

_SAVE_STEP = (
    update(NOTICES)
    .where(NOTICES.c.id == bindparam("b_id"), NOTICES.c.status == bindparam("b_was"),
           NOTICES.c.attempts == bindparam("b_was_attempts"))
    .values({n: bindparam(n) for n in (*_STEP_NAMES[1:], "updated_at")})
)


def _portable_save_steps(conn: Connection, steps: list[Step], now: datetime) -> set[UUID]:
    written = set()
    for v in (_step_values(s) for s in steps):
        params = {f"b_{k}": v[k] for k in ("id", "was", "was_attempts")}
        params.update({n: v[n] for n in _STEP_NAMES[1:]}, updated_at=now)
        if conn.execute(_SAVE_STEP, params).rowcount:
            written.add(v["id"])
    return written


def _portable_record_steps(conn: Connection, outbox: Table, steps: list[Step],
                           events: list[tuple[UUID, dict[str, Any]]], now: datetime) -> set[UUID]:
    saved = _portable_save_steps(conn, steps, now)
    stage_outbox(conn, outbox, [row for nid, row in events if nid in saved])
    return saved


_SAVE_STEPS = Dialects(postgresql=_pg_save_steps, portable=_portable_save_steps)
_RECORD_STEPS = Dialects(postgresql=_pg_record_steps, portable=_portable_record_steps)


def save_steps(conn: Connection, steps: list[Step], now: datetime) -> set[UUID]:
    """Write lifecycle steps, each only if its notice is still as it was read (status and attempts): a
    concurrent step (sweeper, consumer, another replica) is never overwritten. Returns the ids written.
    One statement on PostgreSQL."""
    return _SAVE_STEPS.of(conn)(conn, steps, now) if steps else set()


def record_steps(
    conn: Connection, outbox: Table, steps: list[Step], events: list[tuple[UUID, dict[str, Any]]], now: datetime
) -> set[UUID]:
    """Write lifecycle steps (as save_steps) and stage the outbox rows of those written: `events` are
    (notice id, outbox row), for the steps that have an outcome event. Returns the ids written. One statement
    on PostgreSQL (safe outside a transaction), save_steps + stage_outbox elsewhere."""
    return _RECORD_STEPS.of(conn)(conn, outbox, steps, events, now) if steps else set()


# -- where the delivery loop records results ----------------------------------------------------------------

@asynccontextmanager
async def _autocommit(session: AsyncSession) -> AsyncIterator[AsyncConnection]:
    yield await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@asynccontextmanager
async def _transaction(session: AsyncSession) -> AsyncIterator[AsyncConnection]:
    async with session.begin():
        yield await session.connection()


_STEPS_CONNECTION: Dialects[Callable[[AsyncSession], AbstractAsyncContextManager[AsyncConnection]]] = Dialects(
    postgresql=_autocommit, portable=_transaction)


def steps_connection(session: AsyncSession) -> AbstractAsyncContextManager[AsyncConnection]:
    """The connection to run `record_steps` on: on PostgreSQL, where it is one statement atomic by itself, in
    autocommit (no BEGIN / COMMIT: a round trip less per record); elsewhere in a transaction of its own."""
    return _STEPS_CONNECTION.of(session)(session)
