"""Writing a batch's fold into one generation of the read model: claim the event ids (the generation's own
`applied` table) and load the rows of their dossiers, then upsert the rows and add the rollup deltas.

One writer, two ways to say the same statements, picked by `libs.db.bulk.Dialects` (never a dialect name):
- PostgreSQL: two fixed statements over one array parameter per column (compiled and prepared once per
  connection and generation) — the claim and the load in one, the rows and both rollups in the other —
  and one more only when a rollup row drops to 0. A replay's thousands of rows go by binary COPY.
- elsewhere (SQLite): SQLAlchemy Core, an executemany per table (its writers are serialised anyway).
Same rows either way. Synchronous: it runs inside the batch's transaction through `run_sync`.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Connection, Table, TextClause, bindparam, delete, select, text
from sqlalchemy.util import await_only

from libs.db.bulk import Dialects, dialect_insert, insert_rows, member_of
from libs.db.sql import pg_array, pg_value
from services.reporting.domain.certifications import Certified, CertKey
from services.reporting.domain.projection import Contribution
from services.reporting.domain.state import COLUMNS, FactState
from services.reporting.store.tables import RECEIVED_KEY, RESOLVED_KEY, GenerationTables

_CHUNK = 2000  # dossier ids per SELECT … IN on SQLite
_COPY_OVER = 1000  # fact rows per write above which PostgreSQL gets them by COPY (a replay), not as arrays

Claimed = tuple[set[str], dict[UUID, FactState]]
ClaimFn = Callable[[Connection, GenerationTables, list[str], list[UUID]], Claimed]
WriteFn = Callable[[Connection, GenerationTables, list[FactState], Tally[Contribution]], None]


class GenerationWriter:
    """The rows of one generation, through `conn` (inside the caller's transaction)."""

    def __init__(self, conn: Connection, tables: GenerationTables) -> None:
        self.conn, self.tables = conn, tables
        self._claim, self._write = _PATHS.of(conn)

    def claim(self, event_ids: list[str], dossiers: list[UUID]) -> Claimed:
        """Record the events in the generation and load the rows of `dossiers` (those of every event given,
        fresh or not); returns the ids it did not hold yet and the rows (none when no event is fresh)."""
        if not event_ids:
            return set(), {}
        return self._claim(self.conn, self.tables, event_ids, dossiers)

    def write(self, states: list[FactState], deltas: Tally[Contribution]) -> None:
        """Upsert the fact rows and add the rollup deltas (rows whose count drops to 0 are deleted)."""
        self._write(self.conn, self.tables, states, deltas)

    def certify(self, deltas: dict[CertKey, Certified]) -> None:
        """Add a batch's certification acts and copies to the daily counts (a few rows a batch: one portable
        upsert, executemany, on every database)."""
        if not deltas:
            return
        table = self.tables.certified_daily
        stmt = dialect_insert(self.conn, table)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.agency, table.c.day, table.c.medium],
            set_={"acts": table.c.acts + stmt.excluded.acts, "copies": table.c.copies + stmt.excluded.copies})
        self.conn.execute(stmt, [{"agency": agency, "day": day, "medium": medium, "acts": n.acts,
                                  "copies": n.copies} for (agency, day, medium), n in sorted(deltas.items())])


# ---- SQLAlchemy Core (SQLite) --------------------------------------------------------------------------------

def _claim_rows(conn: Connection, tables: GenerationTables, event_ids: list[str], dossiers: list[UUID]) -> Claimed:
    fresh = set(insert_rows(conn, tables.applied, [{"event_id": e} for e in event_ids],
                            skip_existing=True, returning="event_id"))
    if not fresh:
        return fresh, {}
    facts, out = tables.facts, {}
    query = select(facts).where(member_of(conn, facts.c.dossier_id))
    for start in range(0, len(dossiers), _CHUNK):
        for row in conn.execute(query, {"ids": dossiers[start:start + _CHUNK]}).mappings():
            out[row["dossier_id"]] = FactState.from_row(row)
    return fresh, out


def _write_rows(conn: Connection, tables: GenerationTables, states: list[FactState],
                deltas: Tally[Contribution]) -> None:
    statements = _core_statements(conn, tables)
    if states:
        conn.execute(statements.facts, [s.to_row() for s in states])
    for kind, names in (("received", RECEIVED_KEY), ("resolved", RESOLVED_KEY)):
        rows = [{**dict(zip(names, key, strict=True)), "count": n}
                for (k, key), n in deltas.items() if k == kind and n]
        if not rows:
            continue
        conn.execute(statements.roll[kind], rows)
        emptied = [{f"k_{n}": row[n] for n in names} for row in rows if row["count"] < 0]
        if emptied:
            conn.execute(statements.emptied[kind], emptied)


@dataclass(frozen=True)
class _CoreStatements:
    facts: Any
    roll: dict[str, Any]
    emptied: dict[str, Any]


_core_cache: dict[Table, _CoreStatements] = {}


def _core_statements(conn: Connection, tables: GenerationTables) -> _CoreStatements:
    """The generation's upserts, built once (an ON CONFLICT construct costs more to build than to execute
    from SQLAlchemy's compiled cache). Only the portable path uses them, so one dialect per table."""
    if (found := _core_cache.get(tables.facts)) is not None:
        return found
    facts = tables.facts
    upsert = dialect_insert(conn, facts)
    upsert = upsert.on_conflict_do_update(
        index_elements=[facts.c.dossier_id],
        set_={c.name: upsert.excluded[c.name] for c in facts.columns if c.name != "dossier_id"})
    roll, emptied = {}, {}
    for kind, table, names in (("received", tables.received_daily, RECEIVED_KEY),
                               ("resolved", tables.resolved_daily, RESOLVED_KEY)):
        stmt = dialect_insert(conn, table)
        roll[kind] = stmt.on_conflict_do_update(index_elements=[table.c[n] for n in names],
                                                set_={"count": table.c.count + stmt.excluded.count})
        cond = [table.c[n] == bindparam(f"k_{n}") for n in names]
        emptied[kind] = delete(table).where(*cond, table.c.count == 0)
    found = _core_cache[tables.facts] = _CoreStatements(upsert, roll, emptied)
    return found


# ---- PostgreSQL: fixed statements over arrays --------------------------------------------------------------

def _claim_arrays(conn: Connection, tables: GenerationTables, event_ids: list[str],
                  dossiers: list[UUID]) -> Claimed:
    """One statement: the INSERT into the applied table (a CTE) and the rows, the fresh event ids coming
    back as rows of their own (first column set, the row's columns NULL)."""
    rows = conn.execute(_pg_statements(tables).claim, {"ids": event_ids, "dossiers": dossiers})
    fresh, out = set(), {}
    for event_id, *record in rows:
        if event_id is not None:
            fresh.add(event_id)
            continue
        state = FactState.from_record(record)
        state.dossier_id = UUID(bytes=state.dossier_id.bytes)  # asyncpg's own UUID class → uuid.UUID
        out[state.dossier_id] = state
    return fresh, (out if fresh else {})


def _write_arrays(conn: Connection, tables: GenerationTables, states: list[FactState],
                  deltas: Tally[Contribution]) -> None:
    received = [(*key, n) for (kind, key), n in deltas.items() if kind == "received" and n]
    resolved = [(*key, n) for (kind, key), n in deltas.items() if kind == "resolved" and n]
    if not (states or received or resolved):
        return
    statements = _pg_statements(tables)
    records = [s.to_record() for s in states]
    if len(records) > _COPY_OVER:  # a replay's thousands of rows: binary COPY into a stage, then upsert
        _copy(conn, tables, records)
        records = []
    params = {**_arrays("f", records, len(COLUMNS)),
              **_arrays("r", received, len(RECEIVED_KEY) + 1), **_arrays("s", resolved, len(RESOLVED_KEY) + 1)}
    conn.execute(statements.write, params)
    emptied_received = [key for *key, n in received if n < 0]
    emptied_resolved = [key for *key, n in resolved if n < 0]
    if emptied_received or emptied_resolved:
        conn.execute(statements.emptied, {**_arrays("r", emptied_received, len(RECEIVED_KEY)),
                                          **_arrays("s", emptied_resolved, len(RESOLVED_KEY))})


def _copy(conn: Connection, tables: GenerationTables, records: list[tuple[Any, ...]]) -> None:
    facts = tables.facts.name
    stage = f"{facts}_stage"
    # Inside the transaction SQLAlchemy has begun (the claim above), so the staged rows live until the
    # INSERT below reads them; ON COMMIT DELETE ROWS empties the stage in any case.
    conn.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {facts}) ON COMMIT DELETE ROWS"))
    raw: Any = conn.connection.driver_connection  # asyncpg, in the same transaction
    await_only(raw.copy_records_to_table(stage, records=records, columns=list(COLUMNS)))
    names = ", ".join(COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c != "dossier_id")
    conn.execute(text(f"INSERT INTO {facts} ({names}) SELECT {names} FROM {stage} "
                      f"ON CONFLICT (dossier_id) DO UPDATE SET {updates}"))
    conn.execute(text(f"TRUNCATE {stage}"))


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


_PATHS: Dialects[tuple[ClaimFn, WriteFn]] = Dialects(
    postgresql=(_claim_arrays, _write_arrays), portable=(_claim_rows, _write_rows))
