"""Suite-wide fixtures: the one Kafka broker, the one PostgreSQL and the one S3Proxy of the run (started by
`make test`; S3Proxy also here, when it is not running yet)."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from libs.settings import REPO_ROOT

KAFKA = os.environ.get("ONESTOP_KAFKA_BOOTSTRAP", "localhost:9092")
PG_ADMIN = os.environ.get("ONESTOP_TEST_PG", "postgresql://onestop:onestop@127.0.0.1:5432/postgres")


def reachable(hostport: str) -> bool:
    """Something accepts TCP on host:port (the broker's listeners, S3Proxy)."""
    host, port = hostport.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    if not reachable(KAFKA):
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


# The document store's S3 server: S3Proxy on the test port (state in .run/test/, like the test Kafka broker),
# started through deploy/local/s3proxy/s3proxy.sh when `make test-infra` has not started it already. Used by
# tests/integration/storage and tests/integration/intake (the scans of a dossier).
S3PROXY_SH = REPO_ROOT / "deploy" / "local" / "s3proxy" / "s3proxy.sh"
S3_TEST_PORT = int(os.environ.get("ONESTOP_TEST_S3_PORT", "19000"))
S3_ENDPOINT = f"http://127.0.0.1:{S3_TEST_PORT}"
TEST_RUN_DIR = REPO_ROOT / ".run" / "test"  # the test infrastructure's state, as in the Makefile
S3PROXY_DATA = TEST_RUN_DIR / "s3proxy" / "data"


def s3proxy_env() -> dict[str, str]:
    return {**os.environ, "S3PROXY_PORT": str(S3_TEST_PORT), "ONESTOP_RUN_DIR": str(TEST_RUN_DIR)}


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    if not reachable(f"127.0.0.1:{S3_TEST_PORT}"):
        done = subprocess.run([str(S3PROXY_SH), "start"], env=s3proxy_env(), capture_output=True, text=True,
                              timeout=300, check=False)
        if done.returncode != 0:
            pytest.fail(f"could not start S3Proxy on {S3_ENDPOINT}: {done.stderr[-2000:]}")
    return S3_ENDPOINT


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
