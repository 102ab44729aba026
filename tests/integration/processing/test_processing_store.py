"""Cases on real PostgreSQL: open once, act with row locks, refuse without writing, sweep each warning once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from libs.auth import Officer
from libs.contracts.intake import DossierReceived, DossierWithdrawn
from libs.messaging import ensure_topics
from services.processing import store
from services.processing.actions import Acknowledge, Approve, CompleteStep, Transfer
from services.processing.cases import ActionForbidden, CaseNotFound
from services.processing.domain import DomainError
from services.processing.store import CaseEventRow, CaseRow, ConcurrentUpdate
from tests.integration.processing.conftest import (
    LAND_OFFICE,
    WARD,
    MakeProcess,
    Process,
    at,
    received,
    record_of,
)
from tests.support.kafka import find_records, headers_of

pytestmark = pytest.mark.infra

DESK = Officer("desk1", "Desk One", frozenset({"desk_officer"}), WARD)
HEAD = Officer("head1", "Head One", frozenset({"department_head"}), LAND_OFFICE)
SPEC = Officer("spec1", "Spec One", frozenset({"specialist"}), LAND_OFFICE)
OTHER_WARD = Officer("desk9", "Other desk", frozenset({"desk_officer", "specialist"}), "000.00.13.H55")


async def open_case(p: Process, event: DossierReceived) -> None:
    async with p.app.rt.sessions() as session, session.begin():
        await p.cases.open(session, [p.cases.opening(event)])


async def outbox_types(p: Process, dossier_id: UUID) -> list[str]:
    outbox = p.app.outbox.table
    async with p.app.rt.sessions() as session:
        query = select(outbox.c.event_type).where(outbox.c.key == str(dossier_id)).order_by(outbox.c.id)
        return list((await session.execute(query)).scalars())


async def row_of(p: Process, dossier_id: UUID) -> CaseRow:
    async with p.app.rt.sessions() as session:
        row = await session.get(CaseRow, dossier_id)
        assert row is not None
        return row


async def log_of(p: Process, dossier_id: UUID) -> list[CaseEventRow]:
    async with p.app.rt.sessions() as session:
        return await store.events_of(session, dossier_id)


async def test_a_received_dossier_opens_one_case(process: Process) -> None:
    event = received(at(16, 9))
    await open_case(process, event)
    await open_case(process, event)  # a second copy of the receipt changes nothing

    row = await row_of(process, event.dossier_id)
    assert (row.state, row.holder_agency, row.competent_agency) == (2, WARD, LAND_OFFICE)
    assert row.appointment_at == event.appointment_at and row.version == 1 and row.event_seq == 1
    assert [e.type for e in await log_of(process, event.dossier_id)] == ["case.opened"]
    assert await outbox_types(process, event.dossier_id) == ["vn.onestop.case.opened.v1"]


async def test_ward_to_city_and_back_with_its_slip(process: Process) -> None:
    event = received(at(16, 9))
    await open_case(process, event)
    wf, code = process.cases, event.code

    process.clock.moment = at(16, 10)
    view = await wf.act(code, DESK, Transfer(action="transfer"))
    assert (view["state"], view["holder_agency"], view["handoffs"][0]["pending"]) == (4, LAND_OFFICE, True)
    process.clock.moment = at(16, 11)
    await wf.act(code, HEAD, Acknowledge(action="acknowledge"))
    for who in (HEAD, SPEC, HEAD):  # assign, review, head of division
        await wf.act(code, who, CompleteStep(action="complete-step", note="ok"))
    view = await wf.act(code, HEAD, Approve(action="approve"))
    assert (view["state"], view["sub_state"], view["outcome"]) == (9, "result_available", "approved")

    async with wf.sessions() as session, session.begin():
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
    wf, code = process.cases, event.code
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
    wf = process.cases

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
    wf = process.cases
    async with wf.sessions() as first, wf.sessions() as second:
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
        raised = await asyncio.gather(process.sweep.sweep_once(), other.sweep.sweep_once())
        rounds.append([e for events in raised for e in events if e.dossier_id in ids])
    overdue = Counter(e.dossier_id for e in rounds[0] if e.type == "case.overdue")
    assert overdue == dict.fromkeys(ids, 1)
    assert rounds[1] == []

    for event in late:
        row = await row_of(process, event.dossier_id)
        assert row.overdue and "overdue" in row.flags
        assert (await outbox_types(process, event.dossier_id)).count("vn.onestop.case.overdue.v1") == 1
        assert [e.type for e in await log_of(process, event.dossier_id)].count("case.overdue") == 1


async def test_the_sweep_s_warnings_continue_the_receipt_s_trace(process: Process) -> None:
    """The sweep runs outside any event's span; its warning still carries the receipt's trace (issue 15 §3)."""
    process.clock.moment = at(6, 8, month=4)
    event = received(at(6, 8, month=4))
    with TracerProvider().get_tracer("test").start_as_current_span("dossier.received process") as span:
        await open_case(process, event)
    trace_id = format(span.get_span_context().trace_id, "032x")
    row = await row_of(process, event.dossier_id)
    assert row.trace is not None and row.trace.split("-")[1] == trace_id

    process.clock.moment = row.appointment_at - timedelta(hours=2)
    assert [e.type for e in await process.sweep.sweep_once() if e.dossier_id == str(event.dossier_id)] == [
        "case.due_soon"]
    outbox = process.app.outbox.table
    async with process.app.rt.sessions() as session:
        query = select(outbox.c.event_type, outbox.c.headers).where(outbox.c.key == str(event.dossier_id))
        headers = {t: h for t, h in (await session.execute(query)).all()}
    assert headers["vn.onestop.case.due_soon.v1"]["traceparent"].split("-")[1] == trace_id
    assert headers["vn.onestop.case.opened.v1"]["traceparent"].split("-")[1] == trace_id


async def test_due_soon_and_unacknowledged_hand_over_warn_once(process: Process) -> None:
    process.clock.moment = at(30, 8)
    event = received(at(30, 8))  # Mon 30/03: due Fri 03/04
    await open_case(process, event)
    wf, sweep = process.cases, process.sweep
    await wf.act(event.code, DESK, Transfer(action="transfer"))

    process.clock.moment = at(30, 8) + timedelta(hours=4)  # the 2 working hours to acknowledge are over
    first = [e.type for e in await sweep.sweep_once() if e.dossier_id == str(event.dossier_id)]
    again = [e.type for e in await sweep.sweep_once() if e.dossier_id == str(event.dossier_id)]
    assert (first, again) == (["case.transfer_ack_overdue"], [])

    row = await row_of(process, event.dossier_id)
    process.clock.moment = row.appointment_at - timedelta(hours=2)
    first = [e.type for e in await sweep.sweep_once() if e.dossier_id == str(event.dossier_id)]
    again = [e.type for e in await sweep.sweep_once() if e.dossier_id == str(event.dossier_id)]
    assert (first, again) == (["case.due_soon"], [])

    # Once warned, the case is not even read by the next sweeps — until its appointment passes.
    assert (await row_of(process, event.dossier_id)).due_soon_warned
    assert event.dossier_id not in await candidates(process)
    process.clock.moment = row.appointment_at + timedelta(minutes=1)
    assert event.dossier_id in await candidates(process)
    assert [e.type for e in await sweep.sweep_once() if e.dossier_id == str(event.dossier_id)] == ["case.overdue"]


async def candidates(process: Process) -> set[UUID]:
    """The dossiers the sweep's candidate query would read at the process clock's moment."""
    now = process.clock.moment
    async with process.app.rt.sessions() as session:
        return set(await store.sweep_keys(session, now, now + timedelta(days=30)))


async def test_work_queue_is_scoped_to_the_agency(process: Process) -> None:
    async with process.app.rt.sessions() as session:
        total = (await session.execute(select(func.count()).select_from(CaseRow))).scalar_one()
    mine = await process.cases.search(WARD, limit=1000)
    assert len(mine) == total  # every case here was received at the ward
    assert await process.cases.search(OTHER_WARD.agency) == []
    held = await process.cases.search(LAND_OFFICE, held_only=True, states=[4], limit=1000)
    assert held and all(c["holder_agency"] == LAND_OFFICE and c["state"] == 4 for c in held)


async def test_one_dossier_changed_several_times_in_one_transaction(process: Process) -> None:
    """The consumer applies a batch of events in one transaction: receipt, supplement and withdrawal together."""
    wf = process.cases
    event = received(at(16, 9))
    async with wf.sessions() as session, session.begin():
        await wf.open(session, [wf.opening(event)])
        await wf.apply(session, event.dossier_id, lambda case, now: case.request_supplement("desk1", ["x"], "y", now))
        await wf.apply(session, event.dossier_id, lambda case, now: case.supplement_received(now))
        await wf.apply(session, event.dossier_id, lambda case, now: case.withdraw(now, "thôi"))
    row = await row_of(process, event.dossier_id)
    assert (row.state, row.version, row.event_seq) == (7, 4, 4)
    assert [e.type for e in await log_of(process, event.dossier_id)] == [
        "case.opened", "case.supplement_requested", "case.supplement_received", "case.withdrawn"
    ]


async def test_a_refused_desk_event_raises_and_writes_nothing(process: Process) -> None:
    wf = process.cases
    event = received(at(16, 9))
    await open_case(process, event)
    with pytest.raises(DomainError, match="cannot receive a supplement"):
        async with wf.sessions() as session, session.begin():
            await wf.apply(session, event.dossier_id, lambda case, now: case.supplement_received(now))
    with pytest.raises(DomainError, match="no case for dossier"):
        async with wf.sessions() as session, session.begin():
            await wf.apply(session, UUID(int=7), lambda case, now: case.supplement_received(now))
    assert (await row_of(process, event.dossier_id)).version == 1
    assert await outbox_types(process, event.dossier_id) == ["vn.onestop.case.opened.v1"]


async def test_a_batch_of_receipts_is_written_with_a_fixed_handful_of_statements(process: Process) -> None:
    rt, consumer = process.app.rt, process.app.consumer
    events = [received(at(16, 9)) for _ in range(20)]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    sa_event.listen(rt.engine.sync_engine, "before_cursor_execute", count)
    try:
        await consumer.process_batch([record_of(e, i) for i, e in enumerate(events)])
    finally:
        sa_event.remove(rt.engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) <= 4  # the inbox claim, then the cases, their event log and their outbox rows
    for event in events:
        row = await row_of(process, event.dossier_id)
        assert (row.code, row.version, row.event_seq) == (event.code, 1, 1)
        assert [e.type for e in await log_of(process, event.dossier_id)] == ["case.opened"]
        assert await outbox_types(process, event.dossier_id) == ["vn.onestop.case.opened.v1"]


async def test_a_consumer_batch_opens_each_case_once_and_parks_the_refused_receipt(any_process: Process) -> None:
    """The batch's receipts are written first: a re-sent one opens nothing, a later event of the batch finds
    its case, and a receipt the database refuses (a code another dossier has) fails the batch, so the batch
    is re-applied one event at a time and only that receipt is dead-lettered."""
    process = any_process
    rt, consumer = process.app.rt, process.app.consumer
    await rt.broker.connect()
    await ensure_topics(rt.common.kafka_bootstrap, [rt.dlq_topic], 1, 1)
    try:
        known = received(at(16, 9))
        await open_case(process, known)  # opened by an earlier batch
        first, second = received(at(16, 9)), received(at(16, 9))
        again = first.model_copy()  # the same receipt re-sent under a new ce_id
        clash = received(at(16, 9)).model_copy(update={"code": first.code})  # another dossier, the same code
        withdrawn = DossierWithdrawn(dossier_id=second.dossier_id, code=second.code, reason="thôi", actor="citizen")
        batch = [first, second, again, known, withdrawn, clash]
        records = [record_of(e, i) for i, e in enumerate(batch)]
        await consumer.process_batch(records)

        assert await outbox_types(process, first.dossier_id) == ["vn.onestop.case.opened.v1"]
        assert await outbox_types(process, second.dossier_id) == [
            "vn.onestop.case.opened.v1", "vn.onestop.case.withdrawn.v1"
        ]
        assert await outbox_types(process, known.dossier_id) == ["vn.onestop.case.opened.v1"]
        assert await outbox_types(process, clash.dossier_id) == []
        row = await row_of(process, second.dossier_id)
        assert (row.state, row.version, row.event_seq) == (7, 2, 2)
        assert [e.type for e in await log_of(process, first.dossier_id)] == ["case.opened"]

        clash_id = dict(records[-1].headers)["ce_id"].decode()
        dead = await find_records(rt.common.kafka_bootstrap, rt.dlq_topic,
                                  lambda r: headers_of(r).get("ce_id") == clash_id)
        assert len(dead) == 1 and "IntegrityError" in headers_of(dead[0])["dlq_error"]
    finally:
        await rt.broker.stop()
