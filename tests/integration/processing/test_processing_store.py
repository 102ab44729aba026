"""Cases on real PostgreSQL: open once, act with row locks, refuse without writing, sweep each warning once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select

from libs.auth import Officer
from libs.contracts.intake import DossierReceived
from services.processing import store
from services.processing.actions import Acknowledge, Approve, CompleteStep, Transfer
from services.processing.domain import DomainError
from services.processing.service import ActionForbidden, CaseNotFound
from services.processing.store import CaseEventRow, CaseRow, ConcurrentUpdate
from tests.integration.processing.conftest import LAND_OFFICE, WARD, MakeProcess, Process, at, received

pytestmark = pytest.mark.infra

DESK = Officer("desk1", "Desk One", frozenset({"desk_officer"}), WARD)
HEAD = Officer("head1", "Head One", frozenset({"department_head"}), LAND_OFFICE)
SPEC = Officer("spec1", "Spec One", frozenset({"specialist"}), LAND_OFFICE)
OTHER_WARD = Officer("desk9", "Other desk", frozenset({"desk_officer", "specialist"}), "000.00.13.H55")


async def open_case(p: Process, event: DossierReceived) -> list[Any]:
    async with p.workflow.rt.sessions() as session, session.begin():
        return await p.workflow.open_case(session, event)


async def outbox_types(p: Process, dossier_id: UUID) -> list[str]:
    outbox = p.workflow.rt.outbox
    assert outbox is not None
    async with p.workflow.rt.sessions() as session:
        query = select(outbox.c.event_type).where(outbox.c.key == str(dossier_id)).order_by(outbox.c.id)
        return list((await session.execute(query)).scalars())


async def row_of(p: Process, dossier_id: UUID) -> CaseRow:
    async with p.workflow.rt.sessions() as session:
        row = await session.get(CaseRow, dossier_id)
        assert row is not None
        return row


async def log_of(p: Process, dossier_id: UUID) -> list[CaseEventRow]:
    async with p.workflow.rt.sessions() as session:
        return await store.events_of(session, dossier_id)


async def test_a_received_dossier_opens_one_case(process: Process) -> None:
    event = received(at(16, 9))
    assert [e.type for e in await open_case(process, event)] == ["case.opened"]
    assert await open_case(process, event) == []  # a second copy of the receipt changes nothing

    row = await row_of(process, event.dossier_id)
    assert (row.state, row.holder_agency, row.competent_agency) == (2, WARD, LAND_OFFICE)
    assert row.appointment_at == event.appointment_at and row.version == 1 and row.event_seq == 1
    assert [e.type for e in await log_of(process, event.dossier_id)] == ["case.opened"]
    assert await outbox_types(process, event.dossier_id) == ["vn.onestop.case.opened.v1"]


async def test_ward_to_city_and_back_with_its_slip(process: Process) -> None:
    event = received(at(16, 9))
    await open_case(process, event)
    wf, code = process.workflow, event.code

    process.clock.moment = at(16, 10)
    view = await wf.act(code, DESK, Transfer(action="transfer"))
    assert (view["state"], view["holder_agency"], view["handoffs"][0]["pending"]) == (4, LAND_OFFICE, True)
    process.clock.moment = at(16, 11)
    await wf.act(code, HEAD, Acknowledge(action="acknowledge"))
    for who in (HEAD, SPEC, HEAD):  # assign, review, head of division
        await wf.act(code, who, CompleteStep(action="complete-step", note="ok"))
    view = await wf.act(code, HEAD, Approve(action="approve"))
    assert (view["state"], view["sub_state"], view["outcome"]) == (9, "result_available", "approved")

    async with wf.rt.sessions() as session, session.begin():
        with pytest.raises(DomainError, match="still at"):  # the result has not come back to the ward
            await wf.apply(session, event.dossier_id, lambda case, now: case.result_handed_over(now, "in_person"))

    view = await wf.view(code, WARD)
    slip = view["slip"]
    assert [(r["giver_agency"], r["receiver_agency"]) for r in slip] == [(WARD, LAND_OFFICE)] + [
        (LAND_OFFICE, LAND_OFFICE)
    ] * 4
    assert [r["step_code"] for r in slip] == ["receive", "assign", "review", "head", "sign"]
    assert [r["giver"] for r in slip] == ["desk1", "head1", "spec1", "head1", "head1"]
    assert all(r["result"] in ("early", "on_time") and r["handed_over_at"] for r in slip)
    assert [h["type"] for h in view["history"]][:3] == ["case.opened", "case.transferred", "case.transfer_acknowledged"]
    assert [e.seq for e in await log_of(process, event.dossier_id)] == list(range(1, len(view["history"]) + 1))
    types = await outbox_types(process, event.dossier_id)
    assert len(types) == len(view["history"]) and "vn.onestop.case.approved.v1" in types


async def test_refused_actions_write_nothing(process: Process) -> None:
    event = received(at(16, 9))
    await open_case(process, event)
    wf, code = process.workflow, event.code
    before = (await row_of(process, event.dossier_id), await outbox_types(process, event.dossier_id))

    with pytest.raises(CaseNotFound):
        await wf.act(code, OTHER_WARD, Transfer(action="transfer"))
    with pytest.raises(CaseNotFound):
        await wf.view(code, OTHER_WARD.agency)
    with pytest.raises(ActionForbidden, match="held by"):
        await wf.act(code, HEAD, CompleteStep(action="complete-step"))
    with pytest.raises(DomainError, match="cannot approve"):
        await wf.act(code, DESK, Approve(action="approve"))
    with pytest.raises(DomainError, match="no hand-over"):
        await wf.act(code, DESK, Acknowledge(action="acknowledge"))

    after = (await row_of(process, event.dossier_id), await outbox_types(process, event.dossier_id))
    assert after[0].version == before[0].version and after[0].data == before[0].data
    assert after[1] == before[1]
    assert len(await log_of(process, event.dossier_id)) == 1


async def test_two_officers_cannot_interleave_on_one_case(process: Process) -> None:
    event = received(at(16, 9))
    await open_case(process, event)
    wf = process.workflow

    results = await asyncio.gather(
        *(wf.act(event.code, DESK, Transfer(action="transfer", note=f"try {i}")) for i in range(8)),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, dict)]
    assert len(won) == 1, results
    assert all(isinstance(r, ActionForbidden | DomainError) for r in results if not isinstance(r, dict))
    row = await row_of(process, event.dossier_id)
    assert (row.version, row.event_seq, row.holder_agency) == (2, 2, LAND_OFFICE)
    assert [e.type for e in await log_of(process, event.dossier_id)] == ["case.opened", "case.transferred"]


async def test_a_stale_write_is_refused(process: Process) -> None:
    """Without the row lock (SQLite), the version check still stops the second of two writers."""
    event = received(at(16, 9))
    await open_case(process, event)
    wf = process.workflow
    async with wf.rt.sessions() as first, wf.rt.sessions() as second:
        row1, row2 = await first.get(CaseRow, event.dossier_id), await second.get(CaseRow, event.dossier_id)
        assert row1 is not None and row2 is not None
        case1, case2 = wf.load(row1), wf.load(row2)
        now = at(16, 10)
        await store.save(first, row1, case1, now, row1.event_seq)
        await first.commit()
        with pytest.raises(ConcurrentUpdate):
            await store.save(second, row2, case2, now, row2.event_seq)


async def test_each_warning_once_across_sweeps_and_processes(make_process: MakeProcess, process: Process) -> None:
    other = await make_process()  # a second process on the same database
    late = [received(at(16, 9)) for _ in range(7)]  # 4 working days: due on Fri 20/03
    for event in late:
        await open_case(process, event)
    ids = {str(e.dossier_id) for e in late}

    for p in (process, other):
        p.clock.moment = at(25, 9)
    rounds = []
    for _ in range(2):
        raised = await asyncio.gather(process.workflow.sweep_once(), other.workflow.sweep_once())
        rounds.append([e for events in raised for e in events if e.dossier_id in ids])
    overdue = Counter(e.dossier_id for e in rounds[0] if e.type == "case.overdue")
    assert overdue == dict.fromkeys(ids, 1)
    assert rounds[1] == []

    for event in late:
        row = await row_of(process, event.dossier_id)
        assert row.overdue and "overdue" in row.flags
        assert (await outbox_types(process, event.dossier_id)).count("vn.onestop.case.overdue.v1") == 1
        assert [e.type for e in await log_of(process, event.dossier_id)].count("case.overdue") == 1


async def test_due_soon_and_unacknowledged_hand_over_warn_once(process: Process) -> None:
    process.clock.moment = at(30, 8)
    event = received(at(30, 8))  # Mon 30/03: due Fri 03/04
    await open_case(process, event)
    wf = process.workflow
    await wf.act(event.code, DESK, Transfer(action="transfer"))

    process.clock.moment = at(30, 8) + timedelta(hours=4)  # the 2 working hours to acknowledge are over
    first = [e.type for e in await wf.sweep_once() if e.dossier_id == str(event.dossier_id)]
    again = [e.type for e in await wf.sweep_once() if e.dossier_id == str(event.dossier_id)]
    assert (first, again) == (["case.transfer_ack_overdue"], [])

    row = await row_of(process, event.dossier_id)
    process.clock.moment = row.appointment_at - timedelta(hours=2)
    first = [e.type for e in await wf.sweep_once() if e.dossier_id == str(event.dossier_id)]
    again = [e.type for e in await wf.sweep_once() if e.dossier_id == str(event.dossier_id)]
    assert (first, again) == (["case.due_soon"], [])

    # Once warned, the case is not even read by the next sweeps — until its appointment passes.
    assert (await row_of(process, event.dossier_id)).due_soon_warned
    assert event.dossier_id not in await candidates(process)
    process.clock.moment = row.appointment_at + timedelta(minutes=1)
    assert event.dossier_id in await candidates(process)
    assert [e.type for e in await wf.sweep_once() if e.dossier_id == str(event.dossier_id)] == ["case.overdue"]


async def candidates(process: Process) -> set[UUID]:
    """The dossiers the sweep's candidate query would read at the process clock's moment."""
    now = process.clock.moment
    async with process.workflow.rt.sessions() as session:
        return set(await store.sweep_keys(session, now, now + timedelta(days=30)))


async def test_work_queue_is_scoped_to_the_agency(process: Process) -> None:
    async with process.workflow.rt.sessions() as session:
        total = (await session.execute(select(func.count()).select_from(CaseRow))).scalar_one()
    mine = await process.workflow.search(WARD, limit=1000)
    assert len(mine) == total  # every case here was received at the ward
    assert await process.workflow.search(OTHER_WARD.agency) == []
    held = await process.workflow.search(LAND_OFFICE, held_only=True, states=[4], limit=1000)
    assert held and all(c["holder_agency"] == LAND_OFFICE and c["state"] == 4 for c in held)


async def test_one_dossier_changed_several_times_in_one_transaction(process: Process) -> None:
    """The consumer applies a batch of events in one transaction: receipt, supplement and withdrawal together."""
    wf = process.workflow
    event = received(at(16, 9))
    async with wf.rt.sessions() as session, session.begin():
        await wf.open_case(session, event)
        await wf.apply(session, event.dossier_id, lambda case, now: case.request_supplement("desk1", ["x"], "y", now))
        await wf.apply(session, event.dossier_id, lambda case, now: case.supplement_received(now))
        await wf.apply(session, event.dossier_id, lambda case, now: case.withdraw(now, "thôi"))
    row = await row_of(process, event.dossier_id)
    assert (row.state, row.version, row.event_seq) == (7, 4, 4)
    assert [e.type for e in await log_of(process, event.dossier_id)] == [
        "case.opened", "case.supplement_requested", "case.supplement_received", "case.withdrawn"
    ]


async def test_a_refused_desk_event_raises_and_writes_nothing(process: Process) -> None:
    wf = process.workflow
    event = received(at(16, 9))
    await open_case(process, event)
    with pytest.raises(DomainError, match="cannot receive a supplement"):
        async with wf.rt.sessions() as session, session.begin():
            await wf.apply(session, event.dossier_id, lambda case, now: case.supplement_received(now))
    with pytest.raises(DomainError, match="no case for dossier"):
        async with wf.rt.sessions() as session, session.begin():
            await wf.apply(session, UUID(int=7), lambda case, now: case.supplement_received(now))
    assert (await row_of(process, event.dossier_id)).version == 1
    assert await outbox_types(process, event.dossier_id) == ["vn.onestop.case.opened.v1"]
