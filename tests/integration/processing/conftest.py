"""Processing's unit of work on a real PostgreSQL database (no broker needed: events stop at the outbox)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiokafka.structs import ConsumerRecord

from libs.calendar import LimitUnit, TimeLimit, load_calendar
from libs.catalogue import load_catalogue
from libs.contracts import Envelope, Event, encode, topics
from libs.contracts.common import ProcedureSnapshot
from libs.contracts.intake import DossierReceived
from libs.db import upgrade
from libs.settings import CommonSettings
from services.processing.app import Processing, assemble
from services.processing.cases import Cases
from services.processing.settings import ProcessingSettings
from services.processing.sweep import DeadlineSweep
from tests.conftest import NewDatabase

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WARD = "000.00.12.H55"
LAND_OFFICE = "000.01.05.H55"  # Văn phòng Đăng ký đất đai (competent for the land procedures)
LAND = "1.013833"  # 4 working days, received at the ward, resolved by the land office
CAL = load_calendar()
CATALOGUE = load_catalogue()


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """March 2026, Vietnam time (16/03 is a Monday; no holidays that month)."""
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment


def received(moment: datetime, procedure: str = LAND, agency: str = WARD) -> DossierReceived:
    snapshot: dict[str, Any] = CATALOGUE.snapshot(procedure, moment.date(), agency)
    plan = ProcedureSnapshot.model_validate(snapshot)
    limit = TimeLimit(plan.time_limit.value, LimitUnit(plan.time_limit.unit))
    seq = uuid.uuid4().int % 10_000
    return DossierReceived(
        dossier_id=uuid.uuid4(), code=f"{agency}-{moment:%y%m%d}-{seq:04d}-{uuid.uuid4().hex[:4]}",
        receiving_agency=agency, receiving_agency_name="Phường Đức Xuân", channel="in_person",
        received_at=moment, appointment_at=CAL.due(moment, limit, plan.cutoff_15h),
        procedure=plan, applicant={"full_name": "Nguyễn Văn An", "phone": "0912345678"},
    )


def record_of(event: Event, offset: int) -> ConsumerRecord:  # type: ignore[type-arg]
    """`event` as the consumer reads it from onestop.intake.v1."""
    env = Envelope.for_event(event, datetime.now(UTC))
    headers = tuple((k, v.encode()) for k, v in env.headers().items())
    return ConsumerRecord(topic=topics.INTAKE, partition=0, offset=offset, timestamp=0, timestamp_type=0,
                          key=event.key, value=encode(event), checksum=None, serialized_key_size=0,
                          serialized_value_size=0, headers=headers)


@dataclass
class Process:
    """One processing 'process' on the shared database: its wiring and its clock."""

    app: Processing
    clock: FixedClock

    @property
    def cases(self) -> Cases:
        return self.app.cases

    @property
    def sweep(self) -> DeadlineSweep:
        return self.app.sweep


MakeProcess = Callable[[], Awaitable[Process]]


@pytest.fixture(scope="module")
async def database(new_database: NewDatabase) -> str:
    return await new_database(f"processing_{uuid.uuid4().hex[:6]}")


@pytest.fixture(scope="module")
async def make_process(database: str, kafka_bootstrap: str) -> AsyncIterator[MakeProcess]:
    made: list[Process] = []

    async def make() -> Process:
        clock = FixedClock(at(16, 8))
        app = assemble(ProcessingSettings(database_url=database, sweep_page_size=3),
                       common=CommonSettings(kafka_bootstrap=kafka_bootstrap), clock=clock)
        if not made:
            await upgrade(app.rt.engine, app.rt.migrations)
        made.append(Process(app, clock))
        return made[-1]

    yield make
    for process in made:
        await process.app.rt.engine.dispose()


@pytest.fixture(scope="module")
async def process(make_process: MakeProcess) -> Process:
    return await make_process()


@pytest.fixture(params=["postgresql", "sqlite"])  # SQLite: the embedded default (executemany, not unnest)
async def any_process(request: Any, make_process: MakeProcess, tmp_path: Path) -> AsyncIterator[Process]:
    if request.param == "postgresql":
        yield await make_process()
        return
    clock = FixedClock(at(16, 8))
    app = assemble(ProcessingSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'processing.db'}"), clock=clock)
    await upgrade(app.rt.engine, app.rt.migrations)
    yield Process(app, clock)
    await app.rt.engine.dispose()
