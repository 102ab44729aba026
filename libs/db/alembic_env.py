"""The body of every service's migrations/env.py: one shared way to run Alembic.

Uses the connection handed over by `libs.db.migrate.upgrade` when there is one (service start-up,
tests), else opens its own from `sqlalchemy.url` or ONESTOP_<SERVICE>_DATABASE_URL (the CLI)."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection, MetaData
from sqlalchemy.ext.asyncio import create_async_engine


def _configure_and_run(conn: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=conn,
        target_metadata=metadata,
        render_as_batch=conn.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_own(url: str, metadata: MetaData) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_configure_and_run, metadata)
    await engine.dispose()


def run(metadata: MetaData, service: str) -> None:
    conn = context.config.attributes.get("connection")
    if conn is not None:
        _configure_and_run(conn, metadata)
        return
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get(
        f"ONESTOP_{service.upper()}_DATABASE_URL", f"sqlite+aiosqlite:///.run/data/{service}.db"
    )
    asyncio.run(_run_own(url, metadata))
