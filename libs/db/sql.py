"""Dialect-portable statements the stores need (PostgreSQL and SQLite both speak ON CONFLICT)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession


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

