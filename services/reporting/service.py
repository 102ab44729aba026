"""Service layer of reporting: which generation is live, and applying events to one (live or replayed).

The live consumer and the rebuild share `apply_events`: the live consumer hands it the events of one
consumer batch just before that batch's transaction commits, the rebuild hands it thousands per
transaction. Same fold, same rollup diffs, so a rebuilt generation equals the live one.

The core is synchronous SQLAlchemy (it runs inside the live session's `before_commit` hook, where the
async driver is reached through SQLAlchemy's greenlet bridge); async callers use `conn.run_sync`.
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Column,
    Connection,
    Table,
    TextClause,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from libs.contracts import Envelope, Event
from libs.db.sql import pg_array, pg_value
from services.reporting.projection import COLUMNS, Baked, Contribution, FactState, apply, contributions
from services.reporting.store import (
    GENERATIONS,
    POINTER_ID,
    READ_MODEL,
    RECEIVED_KEY,
    RESOLVED_KEY,
    SHAPE,
    GenerationTables,
    generation_tables,
)

log = logging.getLogger(__name__)
_LOCK_KEY = 0x52455054  # pg advisory lock: generation bookkeeping of reporting
_CHUNK = 2000
_COPY_OVER = 1000  # fact rows per write above which PostgreSQL gets them by COPY (a replay), not as arrays

Item = tuple[str, Event, Envelope]  # (event id, event, envelope)


def _insert(conn: Connection, table: Table) -> Any:
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


# ---- generations ----------------------------------------------------------------------------------------

_baked_cache: dict[tuple[int, str], Baked] = {}


def baked_of(conn: Connection, generation: int) -> Baked:
    """The rules baked into a generation's rollups (read once per generation and database)."""
    key = (generation, str(conn.engine.url))
    if key not in _baked_cache:
        rules = conn.execute(select(GENERATIONS.c.rules).where(GENERATIONS.c.generation == generation)).scalar_one()
        _baked_cache[key] = Baked(rules["timezone"], bool(rules["judge_to_minute"]))
    return _baked_cache[key]


_LIVE = select(READ_MODEL.c.generation).where(READ_MODEL.c.id == POINTER_ID)
_LIVE_FOR_SHARE = _LIVE.with_for_update(read=True)


def live_generation(conn: Connection, lock: bool = False) -> int | None:
    """The live generation; `lock` holds the pointer row FOR SHARE until the transaction ends (writers),
    so a swap waits for them and they never write into a generation that was just replaced. Read every
    time, never cached: the row lock is what orders a writer against a swap."""
    query = _LIVE_FOR_SHARE if lock and conn.dialect.name == "postgresql" else _LIVE
    return conn.execute(query).scalar_one_or_none()


def _advisory_lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def ensure_live(conn: Connection, baked: Baked, lock: bool = False) -> int:
    """The live generation, creating generation 1 (empty) on first use. Safe to race; commit is the caller's."""
    generation = live_generation(conn, lock)
    if generation is not None:
        return generation
    _advisory_lock(conn)
    if (generation := live_generation(conn, lock)) is not None:
        return generation
    generation_tables(1).create(conn)
    now = datetime.now(UTC)
    conn.execute(_insert(conn, GENERATIONS).values(
        generation=1, status="live", shape=SHAPE, rules=baked.as_json(), origin="initial", created_at=now,
        activated_at=now).on_conflict_do_nothing())
    conn.execute(_insert(conn, READ_MODEL).values(id=POINTER_ID, generation=1, swapped_at=now)
                 .on_conflict_do_nothing())
    log.info("reporting read model: generation 1 created")
    return live_generation(conn, lock) or 1


def _start_generation(conn: Connection, baked: Baked) -> GenerationTables:
    ensure_live(conn, baked)
    _advisory_lock(conn)
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
    since_param: Any = since.astimezone(UTC)
    if conn.dialect.name == "sqlite":
        since_param = since_param.replace(tzinfo=None)
    missing = conn.execute(text(
        f"SELECT count(*) FROM inbox i WHERE i.applied_at >= :since "
        f"AND NOT EXISTS (SELECT 1 FROM {applied.name} a WHERE a.event_id = i.event_id)"),
        {"since": since_param}).scalar_one()
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


# ---- applying events ------------------------------------------------------------------------------------

def apply_events(conn: Connection, tables: GenerationTables, baked: Baked,
                 items: Sequence[Item]) -> tuple[int, list[FactState]]:
    """Apply events (in order) to one generation; events it already holds are skipped.

    Returns how many were applied and the reportable dossiers whose ending they made known. An event the fold
    cannot apply (a bug, never data) is logged and recorded as applied, its row left as the fold left it —
    alike live and in a replay, so both stay equal; fix the bug, then rebuild."""
    items = _first_of_each(items)
    store = _PgStore(conn, tables) if conn.dialect.name == "postgresql" else _Store(conn, tables)
    fresh, states = store.claim([event_id for event_id, _, _ in items],
                                list(dict.fromkeys(event.dossier_id for _, event, _ in items)))
    todo = [item for item in items if item[0] in fresh]
    if not todo:
        return 0, []
    if len(todo) < len(items):  # some were applied before: only the dossiers of the others change
        touched = {event.dossier_id for _, event, _ in todo}
        states = {dossier: state for dossier, state in states.items() if dossier in touched}
    deltas: Tally[Contribution] = Tally()
    unresolved = set()
    for dossier, loaded in states.items():
        deltas.subtract(contributions(loaded, baked))
        if not _ended(loaded):
            unresolved.add(dossier)
    for event_id, event, envelope in todo:
        state = states.get(event.dossier_id)
        if state is None:
            state = states[event.dossier_id] = FactState(event.dossier_id)
            unresolved.add(event.dossier_id)
        try:
            apply(state, event, envelope)
        except Exception:
            log.exception("event %s (%s) could not be folded; recorded without effect", event_id, envelope.type)
            state.derive()
    for state in states.values():
        deltas.update(contributions(state, baked))
    store.write(list(states.values()), deltas)
    return len(todo), [states[d] for d in unresolved if _ended(states[d])]


def _ended(state: FactState) -> bool:
    """Resolved and known well enough to be counted (the desk's receipt may come after the result)."""
    return state.reportable and state.resolved_at is not None


def _first_of_each(items: Sequence[Item]) -> list[Item]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item[0] not in seen:
            seen.add(item[0])
            out.append(item)
    return out


class _Store:
    """Rows of a generation through SQLAlchemy Core (any dialect); the statements are built once per table."""

    def __init__(self, conn: Connection, tables: GenerationTables) -> None:
        self.conn, self.tables = conn, tables

    def mark_applied(self, event_ids: list[str]) -> set[str]:
        """Record the events in the generation; returns those it did not hold yet."""
        if not event_ids:
            return set()
        stmt = _core_statements(self.conn, self.tables).applied
        return set(self.conn.execute(stmt, [{"event_id": e} for e in event_ids]).scalars())

    def claim(self, event_ids: list[str], dossiers: list[UUID]) -> tuple[set[str], dict[UUID, FactState]]:
        """Record the events (`mark_applied`) and load the rows of `dossiers` (those of every event given,
        fresh or not; none when no event is fresh)."""
        fresh = self.mark_applied(event_ids)
        return fresh, (self.load(dossiers) if fresh else {})

    def load(self, ids: list[UUID]) -> dict[UUID, FactState]:
        facts, out = self.tables.facts, {}
        for start in range(0, len(ids), _CHUNK):
            rows = self.conn.execute(select(facts).where(facts.c.dossier_id.in_(ids[start:start + _CHUNK])))
            for row in rows.mappings():
                out[row["dossier_id"]] = FactState.from_row(row)
        return out

    def write(self, states: list[FactState], deltas: Tally[Contribution]) -> None:
        """Upsert the fact rows and add the rollup deltas (rows whose count drops to 0 are deleted)."""
        statements = _core_statements(self.conn, self.tables)
        if states:
            self.conn.execute(statements.facts, [s.to_row() for s in states])
        for kind, names in (("received", RECEIVED_KEY), ("resolved", RESOLVED_KEY)):
            rows = [{**dict(zip(names, key, strict=True)), "count": n}
                    for (k, key), n in deltas.items() if k == kind and n]
            if not rows:
                continue
            self.conn.execute(statements.roll[kind], rows)
            emptied = [{f"k_{n}": row[n] for n in names} for row in rows if row["count"] < 0]
            if emptied:
                self.conn.execute(statements.emptied[kind], emptied)


@dataclass(frozen=True)
class _CoreStatements:
    applied: Any
    facts: Any
    roll: dict[str, Any]
    emptied: dict[str, Any]


_core_cache: dict[tuple[str, Table], _CoreStatements] = {}


def _core_statements(conn: Connection, tables: GenerationTables) -> _CoreStatements:
    """The generation's statements for `conn`'s dialect, built once (an ON CONFLICT construct costs more to
    build than to execute from SQLAlchemy's compiled cache)."""
    key = (conn.dialect.name, tables.facts)
    if (found := _core_cache.get(key)) is not None:
        return found
    applied = _insert(conn, tables.applied).on_conflict_do_nothing().returning(tables.applied.c.event_id)
    facts = tables.facts
    upsert = _insert(conn, facts)
    upsert = upsert.on_conflict_do_update(
        index_elements=[facts.c.dossier_id],
        set_={c.name: upsert.excluded[c.name] for c in facts.columns if c.name != "dossier_id"})
    roll, emptied = {}, {}
    for kind, table, names in (("received", tables.received_daily, RECEIVED_KEY),
                               ("resolved", tables.resolved_daily, RESOLVED_KEY)):
        stmt = _insert(conn, table)
        roll[kind] = stmt.on_conflict_do_update(index_elements=[table.c[n] for n in names],
                                                set_={"count": table.c.count + stmt.excluded.count})
        cond = [table.c[n] == bindparam(f"k_{n}") for n in names]
        emptied[kind] = delete(table).where(*cond, table.c.count == 0)
    found = _core_cache[key] = _CoreStatements(applied, upsert, roll, emptied)
    return found


class _PgStore(_Store):
    """The same on PostgreSQL as two fixed statements over arrays (compiled and prepared once per connection
    and generation): claim the event ids and load the rows, then upsert the rows from unnest() of one array
    per column and add the rollup deltas. A replay's large batches send the rows by binary COPY instead.
    Same rows."""

    def claim(self, event_ids: list[str], dossiers: list[UUID]) -> tuple[set[str], dict[UUID, FactState]]:
        """One statement: the INSERT into the applied table (a CTE) and the rows, the fresh event ids coming
        back as rows of their own (first column set, the row's columns NULL)."""
        if not event_ids:
            return set(), {}
        rows = self.conn.execute(_pg_statements(self.tables).claim, {"ids": event_ids, "dossiers": dossiers})
        fresh, out = set(), {}
        for event_id, *record in rows:
            if event_id is not None:
                fresh.add(event_id)
                continue
            state = FactState.from_record(record)
            state.dossier_id = UUID(bytes=state.dossier_id.bytes)  # asyncpg's own UUID class → uuid.UUID
            out[state.dossier_id] = state
        return fresh, out

    def write(self, states: list[FactState], deltas: Tally[Contribution]) -> None:
        received = [(*key, n) for (kind, key), n in deltas.items() if kind == "received" and n]
        resolved = [(*key, n) for (kind, key), n in deltas.items() if kind == "resolved" and n]
        if not (states or received or resolved):
            return
        statements = _pg_statements(self.tables)
        records = [s.to_record() for s in states]
        if len(records) > _COPY_OVER:  # a replay's thousands of rows: binary COPY into a stage, then upsert
            self._copy(records)
            records = []
        params = {**_arrays("f", records, len(COLUMNS)),
                  **_arrays("r", received, len(RECEIVED_KEY) + 1), **_arrays("s", resolved, len(RESOLVED_KEY) + 1)}
        self.conn.execute(statements.write, params)
        emptied_received = [key for *key, n in received if n < 0]
        emptied_resolved = [key for *key, n in resolved if n < 0]
        if emptied_received or emptied_resolved:
            self.conn.execute(statements.emptied, {**_arrays("r", emptied_received, len(RECEIVED_KEY)),
                                                   **_arrays("s", emptied_resolved, len(RESOLVED_KEY))})


    def _copy(self, records: list[tuple[Any, ...]]) -> None:
        facts = self.tables.facts.name
        stage = f"{facts}_stage"
        # Inside the transaction SQLAlchemy has begun (the claim above), so the staged rows live until the
        # INSERT below reads them; ON COMMIT DELETE ROWS empties the stage in any case.
        self.conn.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {facts}) ON COMMIT DELETE ROWS"))
        raw: Any = self.conn.connection.driver_connection  # asyncpg, in the same transaction
        await_only(raw.copy_records_to_table(stage, records=records, columns=list(COLUMNS)))
        names = ", ".join(COLUMNS)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c != "dossier_id")
        self.conn.execute(text(f"INSERT INTO {facts} ({names}) SELECT {names} FROM {stage} "
                               f"ON CONFLICT (dossier_id) DO UPDATE SET {updates}"))
        self.conn.execute(text(f"TRUNCATE {stage}"))


def _arrays(prefix: str, rows: Sequence[Sequence[Any]], width: int) -> dict[str, list[Any]]:
    """Rows as one array parameter per column: `prefix`0 … `prefix`<width-1>."""
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * width
    return {f"{prefix}{i}": list(values) for i, values in enumerate(columns)}


@dataclass(frozen=True)
class _PgStatements:
    claim: TextClause
    write: TextClause
    emptied: TextClause


_pg_cache: dict[Table, _PgStatements] = {}


def _unnest(prefix: str, columns: Sequence[Column[Any]]) -> str:
    """`SELECT <columns> FROM unnest(<one array parameter per column>) AS t(<columns>)`."""
    names = [f'"{c.name}"' for c in columns]
    select_list = [pg_value(n, c) for n, c in zip(names, columns, strict=True)]
    arrays = [pg_array(f"{prefix}{i}", c) for i, c in enumerate(columns)]
    return f"SELECT {', '.join(select_list)} FROM unnest({', '.join(arrays)}) AS t({', '.join(names)})"


def _pg_statements(tables: GenerationTables) -> _PgStatements:
    """A generation's fixed statements on PostgreSQL (same text every batch: compiled and prepared once)."""
    if (found := _pg_cache.get(tables.facts)) is not None:
        return found
    facts = tables.facts
    names = ", ".join(f'"{n}"' for n in COLUMNS)
    updates = ", ".join(f'"{n}" = EXCLUDED."{n}"' for n in COLUMNS if n != "dossier_id")
    parts = [f"f AS (INSERT INTO {facts.name} ({names}) {_unnest('f', [facts.c[n] for n in COLUMNS])} "
             f"ON CONFLICT (dossier_id) DO UPDATE SET {updates})"]
    deletes = []
    for prefix, table, keys in (("r", tables.received_daily, RECEIVED_KEY), ("s", tables.resolved_daily, RESOLVED_KEY)):
        key_list = ", ".join(f'"{n}"' for n in keys)
        parts.append(
            f'{prefix} AS (INSERT INTO {table.name} ({key_list}, "count") '
            f"{_unnest(prefix, [table.c[n] for n in (*keys, 'count')])} "
            f'ON CONFLICT ({key_list}) DO UPDATE SET "count" = {table.name}."count" + EXCLUDED."count")')
        match = " AND ".join(f'd."{n}" = t."{n}"' for n in keys)
        deletes.append(
            f"{prefix} AS (DELETE FROM {table.name} d USING ({_unnest(prefix, [table.c[n] for n in keys])}) t "
            f'WHERE {match} AND d."count" = 0)')
    found = _pg_cache[tables.facts] = _PgStatements(
        claim=text(f"WITH fresh AS (INSERT INTO {tables.applied.name} (event_id) SELECT unnest(CAST(:ids AS text[])) "
                   f"ON CONFLICT DO NOTHING RETURNING event_id) "
                   f"SELECT NULL::text, {names} FROM {facts.name} WHERE dossier_id = ANY(CAST(:dossiers AS uuid[])) "
                   f"UNION ALL SELECT event_id, {', '.join(['NULL'] * len(COLUMNS))} FROM fresh"),
        # Data-modifying CTEs run once and to completion whether or not the main query reads them.
        write=text(f"WITH {', '.join(parts)} SELECT 1"),
        emptied=text(f"WITH {', '.join(deletes)} SELECT 1"))
    return found
