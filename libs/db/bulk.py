"""Set-based statements for the batch paths, written once per dialect (ADR 0009).

PostgreSQL gets one fixed statement over array parameters (`… FROM unnest(CAST(:c AS t[]), …) AS v(…)`):
prepared once whatever the batch size, where a multi-row VALUES is compiled anew for every batch.
SQLite gets the plain executemany of the same rows (its writers are serialised anyway). Service code calls
these and never tests a dialect name; a statement that only PostgreSQL can say goes through `Dialects`.

The functions take a synchronous `Connection` (inside `AsyncSession.run_sync` / `AsyncConnection.run_sync`)
or, with the `a…` variants, an `AsyncSession`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Generic, TypeVar

from pydantic_core import to_json
from sqlalchemy import JSON, Connection, Table, any_, bindparam, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from libs.db.sql import pg_array, pg_value

T = TypeVar("T")
Rows = Sequence[Mapping[str, Any]]
AnyConnection = Connection | AsyncConnection | AsyncSession


def on_postgres(conn: AnyConnection) -> bool:
    """Whether `conn` speaks to PostgreSQL (libs only: services choose through `Dialects`)."""
    bind = conn.get_bind() if isinstance(conn, AsyncSession) else conn
    return bool(bind.dialect.name == "postgresql")


class Dialects(Generic[T]):
    """One implementation per dialect, picked by the connection: where a PostgreSQL-only statement and its
    portable plain path meet, so that service code holds both but never branches on a dialect name."""

    def __init__(self, postgresql: T, portable: T) -> None:
        self.postgresql, self.portable = postgresql, portable

    def of(self, conn: AnyConnection) -> T:
        return self.postgresql if on_postgres(conn) else self.portable


def dialect_insert(conn: AnyConnection, table: Table) -> Any:
    """`INSERT` with ON CONFLICT for `conn`'s dialect (both speak it, through different constructs)."""
    return postgresql.insert(table) if on_postgres(conn) else sqlite.insert(table)


def member_of(conn: AnyConnection, column: Any, name: str = "ids") -> ColumnElement[bool]:
    """`column = ANY(:name)` on PostgreSQL (one statement text for any number of values), `column IN (…)`
    elsewhere; the parameter `name` takes a list."""
    if on_postgres(conn):
        return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


# --- INSERT of many rows ------------------------------------------------------------------------------------

SkipExisting = bool | str  # False; True: skip a row on any unique conflict; "col": only when `col` exists


def insert_rows(
    conn: Connection, table: Table, rows: Rows, *, skip_existing: SkipExisting = False, returning: str | None = None
) -> list[Any]:
    """Insert `rows` (all with the same keys); with `skip_existing`, rows whose key exists are left out
    (ON CONFLICT DO NOTHING; given a column name, ON CONFLICT (column) DO NOTHING, so that any other unique
    violation still fails the statement). Returns the `returning` column of the rows written (else [])."""
    if not rows:
        return []
    stmt, params = _insert_plan(conn, table, rows, skip_existing, returning)
    result = conn.execute(stmt, params)
    return list(result.scalars()) if returning else []


async def ainsert_rows(
    session: AsyncSession, table: Table, rows: Rows, *, skip_existing: SkipExisting = False,
    returning: str | None = None,
) -> list[Any]:
    """`insert_rows` through an async session."""
    if not rows:
        return []
    stmt, params = _insert_plan(session, table, rows, skip_existing, returning)
    result = await session.execute(stmt, params)
    return list(result.scalars()) if returning else []


def _insert_plan(conn: AnyConnection, table: Table, rows: Rows, skip_existing: SkipExisting,
                 returning: str | None) -> tuple[Any, Any]:
    names = tuple(rows[0])
    if on_postgres(conn) and len(rows) > 1:
        return _pg_insert(table, names, skip_existing, returning), _arrays(table, names, rows)
    stmt: Any = dialect_insert(conn, table)
    if skip_existing:
        keys = [skip_existing] if isinstance(skip_existing, str) else None
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    if returning:
        stmt = stmt.returning(table.c[returning])
    return stmt, [dict(r) for r in rows] if len(rows) > 1 else dict(rows[0])


@lru_cache(maxsize=64)
def _pg_insert(table: Table, names: tuple[str, ...], skip_existing: SkipExisting, returning: str | None) -> Any:
    values = ", ".join(pg_value(f"v.{n}", table.c[n]) for n in names)
    target = f" ({skip_existing})" if isinstance(skip_existing, str) else ""
    sql = (f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {values} FROM {unnest(table, names)}"
           + (f" ON CONFLICT{target} DO NOTHING" if skip_existing else "")
           + (f" RETURNING {returning}" if returning else ""))
    stmt = text(sql)
    return stmt.columns(table.c[returning]) if returning else stmt


# --- UPDATE of many rows by key -----------------------------------------------------------------------------

def update_rows(conn: Connection, table: Table, key: str, rows: Rows) -> None:
    """Set, for each row, every column it names on the table row whose `key` column equals its `key`."""
    if not rows:
        return
    stmt, params = _update_plan(conn, table, key, rows)
    conn.execute(stmt, params)


async def aupdate_rows(session: AsyncSession, table: Table, key: str, rows: Rows) -> None:
    """`update_rows` through an async session."""
    if not rows:
        return
    stmt, params = _update_plan(session, table, key, rows)
    await session.execute(stmt, params)


def _update_plan(conn: AnyConnection, table: Table, key: str, rows: Rows) -> tuple[Any, Any]:
    names = tuple(rows[0])
    if on_postgres(conn):
        return _pg_update(table, key, names), _arrays(table, names, rows)
    return _portable_update(table, key, names), [{f"b_{n}": r[n] for n in names} for r in rows]


@lru_cache(maxsize=64)
def _pg_update(table: Table, key: str, names: tuple[str, ...]) -> Any:
    sets = ", ".join(f"{n} = {pg_value(f'v.{n}', table.c[n])}" for n in names if n != key)
    return text(f"UPDATE {table.name} AS t SET {sets} FROM {unnest(table, names)} WHERE t.{key} = v.{key}")


@lru_cache(maxsize=64)
def _portable_update(table: Table, key: str, names: tuple[str, ...]) -> Any:
    return (update(table).where(table.c[key] == bindparam(f"b_{key}"))
            .values({n: bindparam(f"b_{n}") for n in names if n != key}))


# --- array parameters ---------------------------------------------------------------------------------------

def unnest(table: Table, names: tuple[str, ...], params: tuple[str, ...] | None = None) -> str:
    """`unnest(CAST(:p AS t[]), …) AS v(p, …)`: one array parameter per column `names[i]`, named `params[i]`
    (default: the column names), for a store's own PostgreSQL statement over a batch."""
    params = params or names
    arrays = ", ".join(pg_array(p, table.c[n]) for n, p in zip(names, params, strict=True))
    return f"unnest({arrays}) AS v({', '.join(params)})"


def _arrays(table: Table, names: tuple[str, ...], rows: Rows) -> dict[str, list[Any]]:
    """One list per column; JSON values as JSON text (asyncpg sends text; `pg_value` casts it back)."""
    out: dict[str, list[Any]] = {}
    for n in names:
        convert = _json_text if isinstance(table.c[n].type, JSON) else None
        out[n] = [convert(r[n]) for r in rows] if convert else [r[n] for r in rows]
    return out


def _json_text(value: Any) -> str | None:
    """pydantic-core's encoder: a few times faster than json.dumps (SQL NULL stays NULL)."""
    return None if value is None else to_json(value).decode()
