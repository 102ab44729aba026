"""Migrations on PostgreSQL when two replicas of a service start at once on a fresh database: both come up, the
schema is made once (libs/db/migrate.py takes a lock around the upgrade)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from libs.db import make_engine
from libs.db.migrate import upgrade
from services.intake.app import MIGRATIONS
from tests.conftest import NewDatabase

pytestmark = pytest.mark.infra


async def test_two_replicas_migrating_one_fresh_database_both_succeed(new_database: NewDatabase) -> None:
    url = await new_database("migrate_race")
    engines = [make_engine(url), make_engine(url)]
    try:
        # Without the lock the two upgrades block each other on the first CREATE TABLE: a bound, not a hang.
        await asyncio.wait_for(asyncio.gather(*(upgrade(engine, MIGRATIONS) for engine in engines)), timeout=60)
        async with engines[0].connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
            tables = (await conn.execute(text(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'dossiers'"))).scalar_one()
    finally:
        for engine in engines:
            await engine.dispose()
    assert len(versions) == 1 and tables == 1
