"""Which generation of the read model is live, and the life of a generation: created (empty, or generation 1
on first use), swapped in behind the pointer row, retired, dropped (ADR 0005).

Synchronous SQLAlchemy for what runs inside a batch's transaction (the live consumer reaches it through
`AsyncConnection.run_sync`); the steps of a rebuild, each its own transaction, are async.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, exists, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db.bulk import Dialects, dialect_insert
from services.reporting.domain.projection import Baked
from services.reporting.store.tables import (
    GENERATIONS,
    INBOX,
    POINTER_ID,
    READ_MODEL,
    SHAPE,
    GenerationTables,
    generation_tables,
)

log = logging.getLogger(__name__)
_LOCK_KEY = 0x52455054  # pg advisory lock: generation bookkeeping of reporting

_baked_cache: dict[tuple[int, str], Baked] = {}


def baked_of(conn: Connection, generation: int) -> Baked:
    """The rules baked into a generation's rollups (read once per generation and database)."""
    key = (generation, str(conn.engine.url))
    if key not in _baked_cache:
        rules = conn.execute(select(GENERATIONS.c.rules).where(GENERATIONS.c.generation == generation)).scalar_one()
        _baked_cache[key] = Baked(rules["timezone"], bool(rules["judge_to_minute"]))
    return _baked_cache[key]


_LIVE = select(READ_MODEL.c.generation).where(READ_MODEL.c.id == POINTER_ID)
# Writers hold the pointer row FOR SHARE on PostgreSQL; SQLite has no row locks (its writers are serialised).
_LIVE_LOCKED = Dialects(postgresql=_LIVE.with_for_update(read=True), portable=_LIVE)


def live_generation(conn: Connection, lock: bool = False) -> int | None:
    """The live generation; `lock` holds the pointer row FOR SHARE until the transaction ends (writers),
    so a swap waits for them and they never write into a generation that was just replaced. Read every
    time, never cached: the row lock is what orders a writer against a swap."""
    query = _LIVE_LOCKED.of(conn) if lock else _LIVE
    return conn.execute(query).scalar_one_or_none()


def _pg_advisory_lock(conn: Connection) -> None:
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def _no_lock(conn: Connection) -> None:
    """SQLite: the transaction's write lock serialises generation bookkeeping already."""


_ADVISORY_LOCK: Dialects[Callable[[Connection], None]] = Dialects(postgresql=_pg_advisory_lock, portable=_no_lock)


def ensure_live(conn: Connection, baked: Baked, lock: bool = False) -> int:
    """The live generation, creating generation 1 (empty) on first use. Safe to race; commit is the caller's."""
    generation = live_generation(conn, lock)
    if generation is not None:
        return generation
    _ADVISORY_LOCK.of(conn)(conn)
    if (generation := live_generation(conn, lock)) is not None:
        return generation
    generation_tables(1).create(conn)
    now = datetime.now(UTC)
    conn.execute(dialect_insert(conn, GENERATIONS).values(
        generation=1, status="live", shape=SHAPE, rules=baked.as_json(), origin="initial", created_at=now,
        activated_at=now).on_conflict_do_nothing())
    conn.execute(dialect_insert(conn, READ_MODEL).values(id=POINTER_ID, generation=1, swapped_at=now)
                 .on_conflict_do_nothing())
    log.info("reporting read model: generation 1 created")
    return live_generation(conn, lock) or 1


def _start_generation(conn: Connection, baked: Baked) -> GenerationTables:
    ensure_live(conn, baked)
    _ADVISORY_LOCK.of(conn)(conn)
    number = int(conn.execute(select(func.max(GENERATIONS.c.generation))).scalar_one() or 0) + 1
    tables = generation_tables(number)
    tables.drop(conn)  # leftovers of a crashed attempt
    tables.create(conn, indexes=False)
    conn.execute(insert(GENERATIONS).values(
        generation=number, status="building", shape=SHAPE, rules=baked.as_json(), origin="rebuild",
        created_at=datetime.now(UTC)))
    return tables


async def start_generation(engine: AsyncEngine, baked: Baked) -> GenerationTables:
    """A new, empty generation for a rebuild (status building), its secondary indexes postponed."""
    async with engine.begin() as conn:
        return await conn.run_sync(_start_generation, baked)


class NotCaughtUp(Exception):
    """The live consumer applied events the rebuilt generation has not seen yet: read on, then retry."""


def _swap(conn: Connection, new: int, since: datetime, events: int) -> int:
    now = datetime.now(UTC)
    conn.execute(update(READ_MODEL).where(READ_MODEL.c.id == POINTER_ID).values(swapped_at=now))
    old = live_generation(conn)
    if old is None:
        raise RuntimeError("no live generation to replace")
    applied = generation_tables(new).applied
    missing = conn.execute(select(func.count()).select_from(INBOX).where(
        INBOX.c.applied_at >= since, ~exists().where(applied.c.event_id == INBOX.c.event_id))).scalar_one()
    if missing:
        raise NotCaughtUp(f"{missing} events applied live are not in generation {new} yet")
    conn.execute(update(READ_MODEL).where(READ_MODEL.c.id == POINTER_ID).values(generation=new))
    conn.execute(update(GENERATIONS).where(GENERATIONS.c.generation == new).values(
        status="live", activated_at=now, events=events))
    conn.execute(update(GENERATIONS).where(GENERATIONS.c.generation == old).values(status="retired", retired_at=now))
    return old


async def swap(engine: AsyncEngine, new: int, since: datetime, events: int) -> int:
    """Make `new` live in one transaction; returns the generation it replaced.

    The pointer row is locked first (an UPDATE: PostgreSQL row lock, SQLite write lock), so live writers
    — who read it FOR SHARE — finish before and wait after. Then every event the live consumer applied
    since the rebuild captured its end offsets must be in the new generation, or NotCaughtUp is raised
    and nothing changes. Readers never wait: they follow the pointer they read."""
    async with engine.begin() as conn:
        return await conn.run_sync(_swap, new, since, events)


async def set_status(engine: AsyncEngine, generation: int, status: str, events: int | None = None) -> None:
    values: dict[str, Any] = {"status": status}
    if events is not None:
        values["events"] = events
    async with engine.begin() as conn:
        await conn.execute(update(GENERATIONS).where(GENERATIONS.c.generation == generation).values(**values))


def _drop(conn: Connection, number: int) -> None:
    if number == live_generation(conn):
        raise RuntimeError(f"generation {number} is live")
    generation_tables(number).drop(conn)
    conn.execute(update(GENERATIONS).where(GENERATIONS.c.generation == number).values(status="dropped"))


async def drop_generations(engine: AsyncEngine, generations: Iterable[int]) -> None:
    for number in generations:
        async with engine.begin() as conn:
            await conn.run_sync(_drop, number)


async def stale_generations(engine: AsyncEngine) -> list[int]:
    """Generations whose tables may still exist but nobody follows (retired, failed, unfinished)."""
    async with engine.connect() as conn:
        live = await conn.run_sync(live_generation)
        rows = await conn.execute(select(GENERATIONS.c.generation).where(
            GENERATIONS.c.status.in_(("retired", "failed", "building", "standby"))))
        return [n for (n,) in rows if n != live]
