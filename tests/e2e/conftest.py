"""One stack of four service processes for the whole end-to-end run."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import NewDatabase
from tests.support.stack import SERVICES, Stack

pytestmark = pytest.mark.infra


@pytest.fixture(scope="session")
async def stack(kafka_bootstrap: str, new_database: NewDatabase) -> AsyncIterator[Stack]:
    run_dir = Path(tempfile.mkdtemp(prefix="onestop-e2e-"))
    urls = {s: await new_database(s) for s in SERVICES}
    stack = Stack(run_dir=run_dir, kafka=kafka_bootstrap, db_urls=urls)
    try:
        await stack.start_all()
        yield stack
    finally:
        stack.stop_all()
