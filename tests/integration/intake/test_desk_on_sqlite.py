"""The desk's unit of work on the embedded default (SQLite): the receipt's statements, replays, refusals and a
consumer batch of processing events applied together (PostgreSQL runs one statement per receipt instead)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import Counter
from sqlalchemy import func, select

from libs.auth import Officer
from libs.calendar import load_calendar
from libs.catalogue import load_catalogue
from libs.contracts import Envelope, topics
from libs.contracts.intake import DossierRated
from libs.contracts.processing import CaseEvent, DueSoon, ResultReady, StepCompleted
from libs.db import upgrade
from libs.messaging import Delivered
from libs.runtime import Runtime, build_runtime
from services.intake.app import MIGRATIONS, Settings
from services.intake.desk import Desk, IdempotencyConflict, NotFound
from services.intake.handlers import on_processing_batch
from services.intake.schemas import DossierIn
from services.intake.store.tables import OUTBOX, DossierHistoryRow, DossierRow

WARD = "000.00.21.H55"
OFFICER = Officer(sub="can-bo-1", name="Trần Thị Hoa", roles=frozenset({"desk_officer"}), agency=WARD)


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    rt: Runtime = build_runtime(
        "intake", Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"), MIGRATIONS,
    )
    await upgrade(rt.engine, rt.migrations)
    counter = Counter("t_sqlite_received", "test", ["service", "agency", "procedure", "channel"], registry=rt.registry)
    yield new_desk(rt, counter)
    await rt.engine.dispose()


def new_desk(rt: Runtime, counter: Counter) -> Desk:
    """The desk as app.py wires it (the runtime is not started: the relay never runs)."""
    return Desk(
        engine=rt.engine, sessions=rt.sessions, clock=rt.clock, outbox=rt.producing(topics.INTAKE, OUTBOX),
        catalogue=load_catalogue(), calendar=load_calendar(), received_total=counter,
    )


def delivered(event: CaseEvent) -> Delivered[CaseEvent]:
    """One event as the consumer hands it to the batch handler (no Kafka record, no span)."""
    return Delivered(event, Envelope.for_event(event, event.at), record=None, headers={})


def body(name: str = "Nguyễn Thị Lan") -> DossierIn:
    return DossierIn.model_validate({
        "procedure_code": "1.001193", "channel": "in_person",
        "applicant": {"full_name": name, "personal_id": "019190001234", "phone": "0912345678"},
    })


async def test_receipts_refusals_and_replays_share_one_gap_free_sequence(desk: Desk) -> None:
    first, created = await desk.receive(body(), WARD, "key-1", OFFICER)
    again, replayed = await desk.receive(body(), WARD, "key-1", OFFICER)
    refused, _ = await desk.refuse(body(), "Hồ sơ không thuộc thẩm quyền", WARD, None, OFFICER)
    third, _ = await desk.receive(body(), WARD, None, OFFICER)
    assert created and not replayed and again.id == first.id and again.code == first.code
    assert [c.rsplit("-", 1)[1] for c in (first.code, refused.code, third.code)] == ["0001", "0002", "0003"]
    with pytest.raises(IdempotencyConflict):
        await desk.receive(body("Người khác"), WARD, "key-1", OFFICER)
    t = desk.outbox.table
    async with desk.sessions() as session:
        outbox = (await session.execute(select(t.c.headers, t.c.payload, t.c.key).order_by(t.c.id))).all()
        history = (await session.execute(select(DossierHistoryRow).order_by(DossierHistoryRow.id))).scalars().all()  # type: ignore[arg-type]
        stored = await session.get(DossierRow, first.id)
    assert len(outbox) == 3 and [h.state for h in history] == [2, 3, 2]
    assert outbox[0].headers["ce_subject"] == first.code and f'"code":"{first.code}"' in outbox[0].payload
    assert outbox[0].key == str(first.id) and history[0].data["code"] == first.code
    assert "applicant" not in history[0].data and history[1].note == "Hồ sơ không thuộc thẩm quyền"
    assert stored is not None and stored.code == first.code and stored.procedure["code"] == "1.001193"


async def test_one_consumer_batch_follows_many_events(desk: Desk) -> None:
    await follows_a_batch(desk)


async def follows_a_batch(desk: Desk) -> None:
    """Events of two dossiers (one twice, one a mere warning) and of an unknown one, in one transaction."""
    a, _ = await desk.receive(body(), WARD, None, OFFICER)
    b, _ = await desk.receive(body(), WARD, None, OFFICER)
    now = desk.clock.now()
    events: list[CaseEvent] = [
        StepCompleted(dossier_id=a.id, code=a.code, actor="x", agency=WARD, at=now, state=4, step_name="Thẩm định",
                      handover=True, receiver="chuyen-vien-2", receiver_agency=WARD),
        DueSoon(dossier_id=b.id, code=b.code, actor="system", agency=WARD, at=now, state=2,
                deadline=now + timedelta(hours=4), hours_left=4.0),
        ResultReady(dossier_id=a.id, code=a.code, actor="lanh-dao", agency=WARD, at=now + timedelta(hours=1),
                    state=9, sub_state="at_return_desk", outcome="approved", appointment_at=now,
                    resolution="early", electronic=True),
        StepCompleted(dossier_id=uuid.uuid4(), code="000.00.21.H55-260101-9999", actor="x", agency=WARD, at=now,
                      state=4),
    ]
    async with desk.sessions() as session, session.begin():
        assert await on_processing_batch(session, [delivered(event) for event in events]) is None  # the handler
    async with desk.sessions() as session:
        sa, sb = await session.get(DossierRow, a.id), await session.get(DossierRow, b.id)
        h = DossierHistoryRow.__table__  # type: ignore[attr-defined]
        count = select(func.count()).select_from(h).where(
            h.c.source == "/onestop/processing", h.c.dossier_id.in_([a.id, b.id]))
        followed = (await session.execute(count)).scalar_one()
    assert sa is not None and sa.state == "result_ready" and sa.result_at_desk and sa.electronic_result
    assert sa.current_step == "Thẩm định" and sa.updated_at == now + timedelta(hours=1)
    assert sb is not None and sb.state == "received" and sb.updated_at == b.updated_at  # a warning moves nothing
    assert followed == 3  # the unknown dossier's event is only logged
    row = await desk.hand_over(a.code, OFFICER, "in_person")
    assert row.state == "returned"


async def test_a_rating_is_recorded_with_the_officer_who_entered_it(desk: Desk) -> None:
    row, _ = await desk.receive(body(), WARD, None, OFFICER)
    await desk.rate(row.code, OFFICER, 5, "Cán bộ hướng dẫn tận tình")
    t = desk.outbox.table
    async with desk.sessions() as session:
        payload = (await session.execute(
            select(t.c.payload).where(t.c.event_type == "vn.onestop.dossier.rated.v1", t.c.key == str(row.id))
        )).scalar_one()
    _, history = await desk.dossier(row.code, OFFICER)
    rated = DossierRated.model_validate_json(payload)
    assert (rated.actor, rated.rating, rated.comment) == ("can-bo-1", 5, "Cán bộ hướng dẫn tận tình")
    assert history[-1].event_type == "vn.onestop.dossier.rated.v1" and history[-1].actor == "can-bo-1"


async def test_an_admin_sees_only_its_own_agency_and_the_province_wide_role_every_agency(desk: Desk) -> None:
    row, _ = await desk.receive(body(), WARD, None, OFFICER)
    elsewhere = "000.00.22.H55"
    admin = Officer(sub="qtv-1", name="Quản trị phường", roles=frozenset({"admin"}), agency=elsewhere)
    province = Officer(sub="qtv-tinh", name="Quản trị tỉnh", roles=frozenset({"admin", "province_admin"}),
                       agency="000.00.00.H55")
    with pytest.raises(NotFound):
        await desk.dossier(row.code, admin)
    with pytest.raises(NotFound):
        await desk.withdraw(row.code, admin, "")
    seen, _ = await desk.dossier(row.code, province)
    assert seen.id == row.id
    own_admin = Officer(sub="qtv-2", name="Quản trị", roles=frozenset({"admin"}), agency=WARD)
    assert (await desk.dossier(row.code, own_admin))[0].id == row.id
