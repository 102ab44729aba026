"""Suite-wide fixtures: the one Kafka broker and the one PostgreSQL of the run (started by `make test`)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

KAFKA = os.environ.get("ONESTOP_KAFKA_BOOTSTRAP", "localhost:9092")
PG_ADMIN = os.environ.get("ONESTOP_TEST_PG", "postgresql://onestop:onestop@127.0.0.1:5432/postgres")


def _reachable(hostport: str) -> bool:
    host, port = hostport.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    if not _reachable(KAFKA):
        pytest.fail(f"Kafka is not reachable at {KAFKA}: run `make test` (or deploy/local/kafka/kafka.sh start)")
    return KAFKA


NewDatabase = Callable[[str], Awaitable[str]]


@pytest.fixture(scope="session")
async def new_database() -> AsyncIterator[NewDatabase]:
    """Creates throw-away PostgreSQL databases for this run; returns their asyncpg SQLAlchemy URLs."""
    try:
        admin = await asyncpg.connect(PG_ADMIN)
    except OSError as exc:
        pytest.fail(f"PostgreSQL is not reachable ({exc}): run `make test` (or deploy/local/postgres/pg.sh start)")
    created: list[str] = []
    run = uuid.uuid4().hex[:8]

    async def create(label: str) -> str:
        name = f"onestop_t{run}_{label}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return PG_ADMIN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}"

    yield create
    for name in created:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
