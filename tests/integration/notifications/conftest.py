"""Real local delivery endpoints and a migrated PostgreSQL database for the notifications integration tests."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # until pytest is configured with pythonpath = ["."]
    sys.path.insert(0, str(ROOT))

from libs.db import make_engine, upgrade  # noqa: E402
from tests.conftest import NewDatabase  # noqa: E402
from tests.support.sms_gateway import SmsGatewayServer  # noqa: E402
from tests.support.smtp_server import SmtpTestServer  # noqa: E402

MIGRATIONS = ROOT / "services" / "notifications" / "migrations"


@pytest.fixture
async def engine(new_database: NewDatabase) -> AsyncIterator[AsyncEngine]:
    """The notifications schema, migrated, in a throw-away PostgreSQL database."""
    engine = make_engine(await new_database(f"notif_{uuid.uuid4().hex[:6]}"))
    await upgrade(engine, MIGRATIONS)
    yield engine
    await engine.dispose()


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def sms_gateway() -> Iterator[SmsGatewayServer]:
    with SmsGatewayServer(token="s3cret", hang_seconds=10) as gateway:
        yield gateway
