"""Officers never lose an action to the system's own background work; two officers on one case get a 409 that
says what changed (issue 18). On PostgreSQL (row locks) and on SQLite, the embedded default (no row lock:
a background write can land between an action's read and its save, and the action is decided again)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from libs.auth import Officer
from services.processing import store
from services.processing.actions import Acknowledge, Approve, CompleteStep, Transfer, _Action
from services.processing.cases import ChangedByAnotherOfficer
from services.processing.store import CaseEventRow, CaseRow
from tests.integration.processing.conftest import LAND_OFFICE, WARD, Process, at, received

pytestmark = pytest.mark.infra

DESK = Officer("desk1", "Trần Thị Hoa", frozenset({"desk_officer"}), WARD)
HEAD = Officer("head1", "Lê Văn Nam", frozenset({"department_head"}), LAND_OFFICE)
SPEC = Officer("spec1", "Phạm Thu", frozenset({"specialist"}), LAND_OFFICE)
SWEEP_TYPES = {"case.due_soon", "case.overdue", "case.transfer_ack_overdue"}
LIFE: list[tuple[Officer, _Action]] = [  # one case, ward → land office → approved: six officer actions
    (DESK, Transfer(action="transfer")), (HEAD, Acknowledge(action="acknowledge")),
    (HEAD, CompleteStep(action="complete-step")), (SPEC, CompleteStep(action="complete-step")),
    (HEAD, CompleteStep(action="complete-step")), (HEAD, Approve(action="approve")),
]
CASES = 50  # × 6 actions = 300
OFFICERS_AT_WORK = 10  # cases moved at once (a ward and a land office's staff; the HTTP side bounds it anyway)


async def opened(p: Process, n: int) -> list[str]:
    events = [received(at(16, 9)) for _ in range(n)]
    async with p.app.rt.sessions() as session, session.begin():
        await p.cases.open(session, [p.cases.opening(e) for e in events])
    return [e.code for e in events]


async def log_of(p: Process, code: str) -> tuple[CaseRow, list[str]]:
    async with p.app.rt.sessions() as session:
        row = (await session.execute(select(CaseRow).where(CaseRow.code == code))).scalar_one()
        query = select(CaseEventRow).where(CaseEventRow.dossier_id == row.dossier_id).order_by(CaseEventRow.seq)
        events = list((await session.execute(query)).scalars())
    assert [e.seq for e in events] == list(range(1, row.event_seq + 1))
    return row, [e.type for e in events]


async def outbox_count(p: Process, dossier_id: UUID) -> int:
    table = p.app.outbox.table
    async with p.app.rt.sessions() as session:
        return len(list((await session.execute(select(table.c.id).where(table.c.key == str(dossier_id)))).scalars()))


async def test_the_sweep_every_100_ms_never_reaches_the_officers_of_300_actions(any_process: Process) -> None:
    p = any_process
    p.clock.moment = at(16, 10)
    control, *codes = await opened(p, CASES + 1)
    for officer, action in LIFE:  # what the actions decide with no background work at all
        await p.cases.act(control, officer, action)
    _, expected = await log_of(p, control)
    redecided_before = p.app.metrics.redecided._value.get()
    p.clock.moment = at(19, 10)  # the day before the appointment: the first sweep already warns "due soon"

    stop = asyncio.Event()

    async def sweeping() -> int:
        rounds = 0
        while not stop.is_set():  # each round an hour later: due-soon, overdue and late hand-overs come up
            p.clock.moment += timedelta(hours=1)
            rounds += len(await p.sweep.sweep_once())
            await asyncio.sleep(0.1)
        return rounds

    desks = asyncio.Semaphore(OFFICERS_AT_WORK)

    async def life(code: str) -> list[Any]:
        outcomes = []
        async with desks:
            for officer, action in LIFE:
                try:
                    outcomes.append(await p.cases.act(code, officer, action))
                except Exception as exc:  # what would reach the officer as an error
                    outcomes.append(exc)
        return outcomes

    sweeper = asyncio.create_task(sweeping())
    results = await asyncio.gather(*(life(code) for code in codes))
    stop.set()
    warnings = await sweeper

    errors = [r for outcomes in results for r in outcomes if not isinstance(r, dict)]
    assert errors == [], errors[:3]
    assert sum(len(outcomes) for outcomes in results) == 6 * CASES
    assert warnings > 0, "the sweep raised nothing: the test did not put background writes beside the actions"
    for code in codes:
        row, types = await log_of(p, code)
        assert [t for t in types if t not in SWEEP_TYPES] == expected, code  # exactly as the actions decided
        assert (row.state, row.data["outcome"]) == (9, "approved")
        assert await outbox_count(p, row.dossier_id) == len(types)
    print(f"\n{p.app.rt.engine.dialect.name}: {warnings} sweep warnings beside {6 * CASES} actions, "
          f"{p.app.metrics.redecided._value.get() - redecided_before} actions decided again")


async def test_an_action_is_decided_again_when_a_background_write_lands_in_between(
        any_process: Process, monkeypatch: pytest.MonkeyPatch) -> None:
    """Staged deterministically: right after the officer's read, a system write saves the case in another
    transaction. SQLite lets it through and the officer's save then finds a newer version; on
    PostgreSQL the officer's row lock makes the consumer wait, so there is nothing to decide again."""
    p = any_process
    p.clock.moment = at(16, 10)
    [code] = await opened(p, 1)
    await p.cases.act(code, DESK, Transfer(action="transfer"))
    read = store.lock
    injected: list[asyncio.Task[Any]] = []

    async def consumer_write(dossier_id: UUID) -> None:
        """A system save of the case (version bumped, no officer change), as the sweep or a consumer makes."""
        async with p.app.rt.sessions() as session, session.begin():
            row = await store.lock(session, dossier_id=dossier_id)
            assert row is not None
            await store.save(session, row, p.cases.load(row), p.clock.now(), row.event_seq)

    async def lock_then_interleave(session: Any, **key: Any) -> Any:
        row = await read(session, **key)
        if not injected and row is not None:
            injected.append(asyncio.create_task(consumer_write(row.dossier_id)))
            await asyncio.sleep(0.3)  # SQLite: the other transaction commits; PostgreSQL: it waits on our lock
        return row

    monkeypatch.setattr(store, "lock", lock_then_interleave)
    before = p.app.metrics.redecided._value.get()
    view = await p.cases.act(code, HEAD, Acknowledge(action="acknowledge"))
    await asyncio.gather(*injected)
    assert view["state"] == 4 and not view["handoffs"][0]["pending"]
    redecided = p.app.metrics.redecided._value.get() - before
    assert redecided == (1 if p.app.rt.engine.dialect.name == "sqlite" else 0)


async def test_two_officers_at_once_one_wins_the_other_hears_what_changed(any_process: Process) -> None:
    p = any_process
    p.clock.moment = at(16, 10)
    [code] = await opened(p, 1)
    seen = (await p.cases.view(code, WARD))["version"]
    colleague = Officer("desk2", "Ngô Bảo", frozenset({"desk_officer"}), WARD)
    results = await asyncio.gather(
        p.cases.act(code, DESK, Transfer(action="transfer", seen_version=seen)),
        p.cases.act(code, colleague, Transfer(action="transfer", note="cùng lúc", seen_version=seen)),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, ChangedByAnotherOfficer)]
    assert len(won) == 1 and len(lost) == 1, results
    message = str(lost[0])
    assert "case.transferred" in message and "desk_officer" in message and WARD in message
    assert "Trần" not in message and "Ngô" not in message and "desk1" not in message  # no person named
    row, types = await log_of(p, code)
    assert types == ["case.opened", "case.transferred"] and row.version == seen + 1


async def test_a_change_by_the_system_since_the_page_was_loaded_is_not_a_conflict(any_process: Process) -> None:
    p = any_process
    p.clock.moment = at(16, 10)
    [code] = await opened(p, 1)
    await p.cases.act(code, DESK, Transfer(action="transfer"))
    seen = (await p.cases.view(code, LAND_OFFICE))["version"]
    p.clock.moment = at(20, 10)  # past the acknowledgement limit and near the appointment: the sweep warns
    assert [e for e in await p.sweep.sweep_once() if e.code == code]
    view = await p.cases.act(code, HEAD, Acknowledge(action="acknowledge", seen_version=seen))
    assert view["version"] > seen + 1  # the sweep's write came in between, and the action went through
