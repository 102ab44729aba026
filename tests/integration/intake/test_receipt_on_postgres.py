"""The desk's unit of work on real PostgreSQL: parallel receipts get gap-free codes, one outbox row each."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from prometheus_client import Counter
from sqlalchemy import func, select

from libs.db import upgrade
from libs.runtime import Runtime, build_runtime
from libs.settings import CommonSettings
from services.intake.app import MIGRATIONS, Settings
from services.intake.desk import Desk
from services.intake.schemas import DossierIn
from tests.conftest import NewDatabase
from tests.integration.intake.test_desk_on_sqlite import new_desk

pytestmark = pytest.mark.infra
WARD = "000.00.12.H55"


@pytest.fixture(scope="module")
async def desk(new_database: NewDatabase, kafka_bootstrap: str) -> AsyncIterator[Desk]:
    url = await new_database("intake_seq")
    rt: Runtime = build_runtime(
        "intake", Settings(database_url=url), MIGRATIONS, common=CommonSettings(kafka_bootstrap=kafka_bootstrap),
    )
    await upgrade(rt.engine, rt.migrations)
    counter = Counter("t_received", "test", ["service", "agency", "procedure", "channel"], registry=rt.registry)
    yield new_desk(rt, counter)
    await rt.engine.dispose()


def body(i: int) -> DossierIn:
    return DossierIn.model_validate({
        "procedure_code": "2.000815", "channel": "in_person",
        "applicant": {"full_name": f"Công dân {i}", "personal_id": "001203012345", "phone": "0912345678"},
    })


async def test_parallel_receipts_get_gap_free_codes(desk: Desk) -> None:
    results = await asyncio.gather(*(desk.receive(body(i), WARD, None) for i in range(40)))
    codes = [row.code for row, created in results if created]
    assert len(codes) == 40
    assert all(re.fullmatch(rf"{re.escape(WARD)}-\d{{6}}-\d{{4}}", c) for c in codes)
    assert sorted(int(c.rsplit("-", 1)[1]) for c in codes) == list(range(1, 41))
    async with desk.sessions() as session:
        staged = (await session.execute(select(func.count()).select_from(desk.outbox.table))).scalar_one()
    assert staged == 40


async def test_parallel_replays_of_one_key_create_one_dossier(desk: Desk) -> None:
    results = await asyncio.gather(*(desk.receive(body(0), WARD, "same-key") for _ in range(10)))
    assert len({row.id for row, _ in results}) == 1
    assert sum(created for _, created in results) == 1
