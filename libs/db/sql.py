"""Dialect-portable statements the stores need (PostgreSQL and SQLite both speak ON CONFLICT)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Date, Float, Integer, String, Table, Uuid
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession

from libs.db.types import UTCDateTime


def _insert(dialect: str, table: Table) -> Any:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


async def insert_ignore(session: SAAsyncSession, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert unless the primary/unique key exists; True when a row was written."""
    stmt = _insert(session.get_bind().dialect.name, table).values(**values).on_conflict_do_nothing()
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def increment_counter(
    session: SAAsyncSession, table: Table, keys: Mapping[str, Any], column: str, by: int = 1
) -> int:
    """Atomically add `by` to a counter row (creating it), returning the new value.

    The row lock taken by the upsert serialises concurrent callers until their transaction ends,
    which is what makes daily dossier sequences gap-free."""
    stmt = _insert(session.get_bind().dialect.name, table).values(**keys, **{column: by})
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={column: table.c[column] + by}
    ).returning(table.c[column])
    result = await session.execute(stmt)
    return int(result.scalar_one())



# --- one statement for a whole batch on PostgreSQL: `… FROM unnest(CAST(:a AS t[]), …) AS v(…)` ----------
def pg_array_type(column: Column[Any]) -> str:
    """The element type an array parameter for `column` is cast to. Strings go as text: a CAST to
    varchar(n) would cut an over-long value silently, while the INSERT or UPDATE into the column still
    refuses it. JSON goes as text too (asyncpg sends text; `pg_value` casts it back)."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return "timestamptz"
    kind = getattr(kind, "impl", kind)  # SQLModel's AutoString and other decorators: what they store as
    for python, sql in ((Uuid, "uuid"), (JSON, "text"), (Boolean, "boolean"), (Integer, "integer"),
                        (Float, "double precision"), (Date, "date"), (String, "text")):
        if isinstance(kind, python):
            return sql
    raise TypeError(f"no array type for column {column.name} ({kind})")


def pg_array(param: str, column: Column[Any]) -> str:
    """`CAST(:param AS <type>[])`, one argument of unnest()."""
    return f"CAST(:{param} AS {pg_array_type(column)}[])"


def pg_value(ref: str, column: Column[Any]) -> str:
    """An unnest() output column as the table column wants it (JSON cast back from text)."""
    return f"CAST({ref} AS json)" if isinstance(column.type, JSON) else ref
