"""Migration 6d2f8b0c4e17 brings the generations that exist to shape 2 (manifest counts on the facts, certification
facts), and back, on SQLite and PostgreSQL; the live consumer's writer then works on the migrated generation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, inspect, select

from libs.calendar import load_calendar
from libs.contracts import Envelope
from libs.contracts import intake as di
from libs.db import make_engine, upgrade
from libs.db.migrate import alembic_config
from services.reporting.app import MIGRATIONS
from services.reporting.domain.projection import Baked
from services.reporting.readmodel import apply_events
from services.reporting.store.generations import ensure_live
from services.reporting.store.tables import GENERATIONS, generation_tables
from tests.conftest import NewDatabase

pytestmark = pytest.mark.infra
BAKED = Baked("Asia/Ho_Chi_Minh", True)
SHAPE_1 = "3877dc6cc6b7"
AT = datetime(2026, 12, 7, 2, tzinfo=UTC)


def _alembic(step: Callable[..., None], revision: str) -> Callable[[Connection], None]:
    def run(conn: Connection) -> None:
        cfg = alembic_config(MIGRATIONS)
        cfg.attributes["connection"] = conn
        step(cfg, revision)
    return run


def _shape(conn: Connection) -> tuple[set[str], set[str], int]:
    names = set(inspect(conn).get_table_names())
    columns = {c["name"] for c in inspect(conn).get_columns("rm1_facts")}
    shape = conn.execute(select(GENERATIONS.c.shape).where(GENERATIONS.c.generation == 1)).scalar_one()
    return names, columns, int(shape)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
async def test_existing_generations_are_brought_to_shape_2_and_back(dialect: str, tmp_path: Path,
                                                                    new_database: NewDatabase) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/r.db" if dialect == "sqlite" else await new_database("shape2")
    engine = make_engine(url, pool_size=2)
    try:
        await upgrade(engine, MIGRATIONS)
        async with engine.begin() as conn:
            await conn.run_sync(ensure_live, BAKED)  # generation 1, created at shape 2 by the code
            await conn.run_sync(_alembic(command.downgrade, SHAPE_1))
            names, columns, shape = await conn.run_sync(_shape)
        assert "rm1_certified_daily" not in names and "documents_scanned" not in columns and shape == 1
        async with engine.begin() as conn:
            await conn.run_sync(_alembic(command.upgrade, "head"))
            names, columns, shape = await conn.run_sync(_shape)
        assert "rm1_certified_daily" in names and shape == 2
        assert {"documents_scanned", "documents_reused", "scanned_items"} <= columns
        act = di.CopyCertified(dossier_id=uuid.uuid4(), code="01/2026 SCT/BS", agency="w", at=AT, medium="paper",
                               book_type="SCT/BS", number=1, year=2026, copies=2, certified_at=AT)
        items: list[Any] = [(str(uuid.uuid4()), act, Envelope.for_event(act, AT))]
        tables = generation_tables(1)
        async with engine.begin() as conn:
            await conn.run_sync(apply_events, tables, BAKED, items, load_calendar())
            rows = (await conn.execute(select(tables.certified_daily))).all()
        assert [tuple(r) for r in rows] == [("w", date(2026, 12, 7), "paper", 1, 2)]
    finally:
        await engine.dispose()
