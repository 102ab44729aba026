"""A reporting service in-process on its own topics, consumer group and PostgreSQL database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from libs.contracts import topics
from libs.runtime import Runtime
from libs.settings import CommonSettings
from services.reporting import app as reporting_app
from services.reporting.settings import ReportingSettings
from services.reporting.store.generations import live_generation
from services.reporting.store.tables import generation_tables
from tests.conftest import NewDatabase
from tests.integration.reporting.simevents import Timed, publish

pytestmark = pytest.mark.infra


@dataclass
class Harness:
    rt: Runtime
    url: str
    bootstrap: str
    topic_of: dict[str, str]  # real topic name -> this harness's topic
    group: str
    published: int = 0

    @property
    def topics(self) -> list[str]:
        return list(self.topic_of.values())

    @property
    def settings(self) -> ReportingSettings:
        assert isinstance(self.rt.settings, ReportingSettings)
        return self.rt.settings

    async def publish(self, events: Sequence[Timed]) -> None:
        self.published += await publish(self.bootstrap, events, self.topic_of)

    async def applied(self) -> int:
        async with self.rt.engine.connect() as conn:
            generation = await conn.run_sync(live_generation)
            if generation is None:
                return 0
            table = generation_tables(generation).applied
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())

    async def settle(self, expected: int | None = None, timeout: float = 120) -> None:
        """Wait until the live consumer applied every event published so far (or `expected`)."""
        want = self.published if expected is None else expected
        deadline = asyncio.get_running_loop().time() + timeout
        while (got := await self.applied()) < want:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"only {got} of {want} events applied within {timeout}s")
            await asyncio.sleep(0.2)


HarnessFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture(scope="module")
async def make_harness(new_database: NewDatabase, kafka_bootstrap: str) -> AsyncIterator[HarnessFactory]:
    started: list[Harness] = []

    async def make(label: str = "rep", **settings: object) -> Harness:
        run = uuid.uuid4().hex[:10]
        url = str(settings.pop("database_url", "") or await new_database(f"{label}_{run}"))
        topic_of = {t: f"t{run}.{t}" for t in topics.ALL}
        group = f"reporting-{run}"
        rt = reporting_app.build(
            ReportingSettings(database_url=url, **settings),  # type: ignore[arg-type]
            CommonSettings(kafka_bootstrap=kafka_bootstrap, topic_partitions=3),
            list(topic_of.values()), group)
        await rt.start()
        harness = Harness(rt, url, kafka_bootstrap, topic_of, group)
        started.append(harness)
        return harness

    yield make
    for harness in started:
        await harness.rt.stop()
