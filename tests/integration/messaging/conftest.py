"""What the messaging tests share: a throw-away database of each kind and a connected test broker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db import make_engine
from libs.messaging import make_broker
from libs.observability import make_tracer_provider, new_registry
from tests.conftest import NewDatabase


@pytest.fixture(params=["postgresql", "sqlite"])  # SQLite: the embedded default of `make up`
async def database_url(request: Any, new_database: NewDatabase, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return await new_database(f"m{uuid.uuid4().hex[:6]}")
    return f"sqlite+aiosqlite:///{tmp_path / 'messaging.db'}"


async def engine_with(url: str, metadata: MetaData) -> AsyncEngine:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return engine


@pytest.fixture
async def connected_broker(kafka_bootstrap: str) -> AsyncIterator[tuple[KafkaBroker, CollectorRegistry]]:
    registry = new_registry()
    broker = make_broker(kafka_bootstrap, "test", registry, make_tracer_provider("test"))
    await broker.connect()
    yield broker, registry
    await broker.stop()
