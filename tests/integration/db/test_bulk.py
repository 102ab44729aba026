"""libs.db.bulk on the real PostgreSQL and on SQLite: the same rows in, the same table out (ADR 0009)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, Uuid, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db import bulk, make_engine, make_session_factory
from libs.db.types import UTCDateTime
from tests.conftest import NewDatabase

pytestmark = pytest.mark.infra

metadata = MetaData()
items = Table(
    "bulk_items", metadata,
    Column("id", Uuid, primary_key=True),
    Column("code", String(20), nullable=False, unique=True),
    Column("count", Integer, nullable=False),
    Column("data", JSON, nullable=True),
    Column("at", UTCDateTime(), nullable=False),
)
AT = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)


@pytest.fixture(params=["postgresql", "sqlite"])
async def engine(request: Any, new_database: NewDatabase, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = await new_database(f"bulk{uuid.uuid4().hex[:6]}") if request.param == "postgresql" else f"sqlite+aiosqlite:///{tmp_path}/b.db"
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


def row(i: int, **over: Any) -> dict[str, Any]:
    return {"id": uuid.UUID(int=i), "code": f"C-{i}", "count": i, "data": {"n": i, "tên": "Hà Nội"},
            "at": AT + timedelta(minutes=i), **over}


async def table(engine: AsyncEngine) -> dict[uuid.UUID, dict[str, Any]]:
    async with engine.connect() as conn:
        return {r["id"]: dict(r) for r in (await conn.execute(select(items))).mappings()}


async def test_insert_rows_writes_every_row_with_its_json_and_time(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: bulk.insert_rows(c, items, [row(1), row(2, data=None), row(3)]))
    got = await table(engine)
    assert got[uuid.UUID(int=1)] == row(1) and got[uuid.UUID(int=3)] == row(3)
    assert got[uuid.UUID(int=2)]["data"] is None


async def test_skip_existing_returns_only_the_rows_written(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: bulk.insert_rows(c, items, [row(1)]))
    async with engine.begin() as conn:
        written = await conn.run_sync(lambda c: bulk.insert_rows(
            c, items, [row(1, code="NEW"), row(2), row(3)], skip_existing=True, returning="id"))
    assert sorted(written) == [uuid.UUID(int=2), uuid.UUID(int=3)]
    assert (await table(engine))[uuid.UUID(int=1)]["code"] == "C-1"  # the existing row was left alone


@pytest.mark.parametrize("rows", [1, 3])  # one row and many take different statements on PostgreSQL
async def test_skipping_by_key_still_fails_on_another_unique_conflict(engine: AsyncEngine, rows: int) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: bulk.insert_rows(c, items, [row(1)]))
    clash = [row(i + 10) for i in range(rows - 1)] + [row(2, code="C-1")]  # a new id with a code that exists
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: bulk.insert_rows(c, items, clash, skip_existing="id"))
    async with engine.begin() as conn:  # skipping any conflict skips it, and the existing id as well
        written = await conn.run_sync(lambda c: bulk.insert_rows(
            c, items, [row(1), *clash], skip_existing=True, returning="id"))
    assert sorted(written) == sorted(r["id"] for r in clash[:-1])


async def test_a_single_row_and_the_async_variants_take_the_same_path(engine: AsyncEngine) -> None:
    async with make_session_factory(engine)() as session, session.begin():
        assert await bulk.ainsert_rows(session, items, [row(7)], returning="id") == [uuid.UUID(int=7)]
        await bulk.aupdate_rows(session, items, "id", [{"id": uuid.UUID(int=7), "count": 70}])
    assert (await table(engine))[uuid.UUID(int=7)]["count"] == 70


async def test_update_rows_sets_the_named_columns_by_key(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: bulk.insert_rows(c, items, [row(i) for i in range(1, 5)]))
        changes = [{"id": uuid.UUID(int=i), "count": 10 * i, "data": {"moved": True}} for i in (2, 4)]
        await conn.run_sync(lambda c: bulk.update_rows(c, items, "id", changes))
    got = await table(engine)
    assert [got[uuid.UUID(int=i)]["count"] for i in range(1, 5)] == [1, 20, 3, 40]
    assert got[uuid.UUID(int=4)]["data"] == {"moved": True} and got[uuid.UUID(int=1)]["data"] == row(1)["data"]
    assert got[uuid.UUID(int=2)]["code"] == "C-2"  # columns not named stay as they were


async def test_member_of_selects_the_listed_keys(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: bulk.insert_rows(c, items, [row(i) for i in range(1, 6)]))
        query = select(items.c.count).where(bulk.member_of(conn, items.c.id)).order_by(items.c.count)
        found = (await conn.execute(query, {"ids": [uuid.UUID(int=2), uuid.UUID(int=5), uuid.UUID(int=9)]}))
        assert list(found.scalars()) == [2, 5]


async def test_dialects_picks_by_the_connection(engine: AsyncEngine) -> None:
    choice = bulk.Dialects(postgresql="pg", portable="plain")
    async with engine.connect() as conn:
        assert choice.of(conn) == ("pg" if engine.dialect.name == "postgresql" else "plain")
