"""The desk's moves on real PostgreSQL: one transaction each (state + history + outbox), row locks, following."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from prometheus_client import Counter
from sqlalchemy import select

from libs.auth import Officer
from libs.contracts.processing import CaseEvent, ResultReady, StepCompleted
from libs.db import upgrade
from libs.runtime import Runtime, build_runtime
from libs.settings import CommonSettings
from services.intake.app import MIGRATIONS, Settings
from services.intake.desk import Desk, NotFound
from services.intake.domain.desk import IllegalMove
from services.intake.following import on_case_events
from services.intake.schemas import DossierIn
from services.intake.store.tables import DossierHistoryRow, DossierRow
from tests.conftest import NewDatabase
from tests.integration.intake.test_desk_on_sqlite import delivered, follows_a_batch, new_desk

pytestmark = pytest.mark.infra
WARD = "000.00.21.H55"
OFFICER = Officer(sub="can-bo-1", name="Trần Thị Hoa", roles=frozenset({"desk_officer"}), agency=WARD)
STRANGER = Officer(sub="can-bo-9", name="Lê Văn Nam", roles=frozenset({"desk_officer"}), agency="000.00.22.H55")


@pytest.fixture(scope="module")
async def desk(new_database: NewDatabase, kafka_bootstrap: str) -> AsyncIterator[Desk]:
    url = await new_database("intake_desk")
    rt: Runtime = build_runtime(
        "intake", Settings(database_url=url), MIGRATIONS, common=CommonSettings(kafka_bootstrap=kafka_bootstrap),
    )
    await upgrade(rt.engine, rt.migrations)
    counter = Counter("t_desk_received", "test", ["service", "agency", "procedure", "channel"], registry=rt.registry)
    yield new_desk(rt, counter)
    await rt.engine.dispose()


def body() -> DossierIn:
    return DossierIn.model_validate({
        "procedure_code": "1.001193", "channel": "in_person",
        "applicant": {"full_name": "Nguyễn Thị Lan", "personal_id": "019190001234", "phone": "0912345678"},
    })


async def outbox_types(desk: Desk, dossier_id: uuid.UUID) -> list[str]:
    t = desk.outbox.table
    async with desk.sessions() as session:
        rows = (await session.execute(select(t.c.event_type).where(t.c.key == str(dossier_id)).order_by(t.c.id)))
        return [r[0] for r in rows]


async def test_receipt_and_refusal_share_the_daily_sequence(desk: Desk) -> None:
    received, _ = await desk.receive(body(), WARD, None, OFFICER)
    refused, _ = await desk.refuse(body(), "Hồ sơ không thuộc thẩm quyền", WARD, None, OFFICER)
    seq = lambda c: int(c.rsplit("-", 1)[1])  # noqa: E731
    assert seq(refused.code) == seq(received.code) + 1
    assert refused.state == "refused" and refused.appointment_at is None and refused.closed_at is not None
    assert await outbox_types(desk, refused.id) == ["vn.onestop.dossier.refused.v1"]


async def test_a_move_commits_state_history_and_event_together_or_nothing(desk: Desk) -> None:
    row, _ = await desk.receive(body(), WARD, None, OFFICER)
    with pytest.raises(NotFound):
        await desk.withdraw(row.code, STRANGER, "")
    with pytest.raises(IllegalMove):
        await desk.hand_over(row.code, OFFICER, "in_person")
    assert await outbox_types(desk, row.id) == ["vn.onestop.dossier.received.v1"]
    await desk.withdraw(row.code, OFFICER, "Không còn nhu cầu")
    assert await outbox_types(desk, row.id) == ["vn.onestop.dossier.received.v1", "vn.onestop.dossier.withdrawn.v1"]
    _, history = await desk.dossier(row.code, OFFICER)
    assert [h.state for h in history] == [2, 7]


async def test_parallel_ratings_give_one_rating(desk: Desk) -> None:
    row, _ = await desk.receive(body(), WARD, None, OFFICER)
    results = await asyncio.gather(*(desk.rate(row.code, OFFICER, 1 + i % 5, "") for i in range(6)),
                                   return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, IllegalMove) for r in results if isinstance(r, BaseException))
    assert (await outbox_types(desk, row.id)).count("vn.onestop.dossier.rated.v1") == 1


async def apply(desk: Desk, event: CaseEvent) -> None:
    async with desk.sessions() as session, session.begin():
        await on_case_events(session, [delivered(event)])


async def test_following_processing_keeps_state_and_the_slip_rows(desk: Desk) -> None:
    row, _ = await desk.receive(body(), WARD, None, OFFICER)
    now = desk.clock.now()
    await apply(desk, StepCompleted(
        dossier_id=row.id, code=row.code, actor="can-bo-1", agency=WARD, at=now, state=4, step_code="receive",
        step_name="Tiếp nhận", handover=True, receiver="chuyen-vien-2", receiver_agency=WARD, timeliness="on_time"))
    await apply(desk, ResultReady(
        dossier_id=row.id, code=row.code, actor="lanh-dao", agency=WARD, at=now + timedelta(hours=2), state=9,
        sub_state="at_return_desk", outcome="approved", appointment_at=now, resolution="early", electronic=True))
    await desk.hand_over(row.code, OFFICER, "in_person")
    await apply(desk, StepCompleted(  # a late workflow event does not reopen a returned dossier
        dossier_id=row.id, code=row.code, actor="x", agency=WARD, at=now + timedelta(hours=3), state=4))
    async with desk.sessions() as session:
        stored = await session.get(DossierRow, row.id)
        query = select(DossierHistoryRow).where(DossierHistoryRow.dossier_id == row.id)  # type: ignore[arg-type]
        history = (await session.execute(query)).scalars().all()
    assert stored is not None and stored.state == "returned" and stored.electronic_result
    assert len(history) == 5 and sum(h.handover for h in history) == 1
    assert await outbox_types(desk, row.id) == [
        "vn.onestop.dossier.received.v1", "vn.onestop.dossier.result_handed_over.v1"]


async def test_one_consumer_batch_follows_many_events(desk: Desk) -> None:
    await follows_a_batch(desk)  # array parameters: one UPDATE and one INSERT for the batch
