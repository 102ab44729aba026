"""Alembic per service, run programmatically over the service's own async engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

# Two replicas starting on a fresh database would both create the tables and one would fail (PostgreSQL): the
# second waits here until the first commits, then finds the schema at head. The lock ends with the transaction.
_MIGRATION_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('onestop.migrate'), 0)")


def alembic_config(script_location: Path, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _upgrade(conn: Connection, cfg: Config) -> None:
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


async def upgrade(engine: AsyncEngine, script_location: Path) -> None:
    """Bring the service's database to the newest migration (idempotent)."""
    cfg = alembic_config(script_location)
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(_MIGRATION_LOCK)
        await conn.run_sync(_upgrade, cfg)
