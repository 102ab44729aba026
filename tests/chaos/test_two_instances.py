"""Two of every service (issue 15 §5): two processes of each on the same databases and consumer groups, the two
intakes used alternately as if behind one address, under a steady load; then one process of each SIGKILLed at
once, so every group rebalances onto the survivor, and started again (another rebalance). The same checks as the
kill -9 chaos test (nothing lost or doubled, no consumer stuck, dead letters only for the injected poison), and:
both processes of each service had work (the topics have at least 2 partitions), the daily dossier numbers are
gap-free, processing's sweep raises each warning once, and notifications' delivery claim sends each notice once
(repeats only for the sends in flight at the kill, answered from the gateway's idempotency store)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from datetime import timedelta

import pytest

from libs.clock import ControlledClock
from libs.contracts import topics
from libs.settings import CommonSettings
from tests.support.chaos import (
    ChaosStack,
    Infra,
    Kill,
    Load,
    applied_by,
    chaos_stack,
    inject_poison,
    open_cases,
    partition_counts,
    verify,
    wait_caught_up,
    wait_for_broker,
    wait_warned,
    warnings,
)
from tests.support.stack import SERVICES

pytestmark = pytest.mark.infra
log = logging.getLogger(__name__)
RATE = 4.0
SENDS_IN_FLIGHT = 8  # ONESTOP_NOTIFICATIONS_CONCURRENCY's default: what one killed process may have had out


async def test_two_of_every_service_lose_double_and_skip_nothing_through_a_rebalance(kafka_bootstrap: str) -> None:
    infra = Infra.from_env()
    started, since_ms = time.monotonic(), int(time.time() * 1000)
    async with chaos_stack(infra, base_port=18500, instances=2, extra={"ONESTOP_PROCESSING_SWEEP_SECONDS": "1"},
                           kills_infra=False) as stack:
        partitions = await partition_counts(stack.kafka)
        assert min(partitions[topics.INTAKE], partitions[topics.PROCESSING]) >= 2, partitions
        load = Load([stack.url("intake", 1), stack.url("intake", 2)],
                    [stack.url("processing", 1), stack.url("processing", 2)], rate=RATE)
        running = asyncio.create_task(load.run())
        try:
            await asyncio.sleep(8)
            poison = await inject_poison(stack, f"two-{secrets.token_hex(3)}")
            await asyncio.sleep(3)
            shares = {s: [await applied_by(stack, s, n) for n in (1, 2)] for s in SERVICES}
            kill = await kill_one_of_each(stack)
            await asyncio.sleep(3)
        finally:
            load.stop()
            await running
        report = await verify(stack, load, [kill], poison, since_ms)

        # The sweep, on both processing processes: every case left open is due soon at once (same-day
        # procedure), then overdue once the clock passes its appointment.
        still_open = await open_cases(stack)
        await wait_warned(stack, "case.due_soon", set(still_open))
        ControlledClock(CommonSettings(run_dir=stack.run_dir).clock_file).set(
            max(still_open.values()) + timedelta(minutes=1))
        await wait_warned(stack, "case.overdue", set(still_open))
        await asyncio.sleep(3)  # a second warning from the other process would show now
        warned = await warnings(stack)

        report.extra.update({
            "partitions": partitions, "events applied by instance 1 / 2 before the kill": shares,
            "warnings": {kind: sum(1 for (_, t) in warned if t == kind) for kind in ("case.due_soon", "case.overdue")},
            "open cases": len(still_open), "duration": f"{time.monotonic() - started:.0f}s",
        })
        figures = report.figures()
        print(f"\n{figures}")
        log.warning("%s", figures)
        (stack.run_dir / "chaos-figures.txt").write_text(figures, encoding="utf-8")

    assert report.dossiers >= 30 and still_open
    assert report.lost == [] and report.doubled == [], figures
    assert report.problems == [], figures
    assert all(a > 0 and b > 0 for a, b in shares.values()), f"an instance had no work: {shares}"
    assert [k for k, n in warned.items() if n != 1] == [], "a warning raised twice"
    assert {d for d, t in warned if t == "case.overdue"} >= set(still_open)
    assert report.sms_repeated_requests + report.mail_repeated <= 2 * SENDS_IN_FLIGHT, figures


async def kill_one_of_each(stack: ChaosStack) -> Kill:
    """SIGKILL the second process of every service at once; the survivors take their partitions over (after the
    session timeout, about 10 s, as the dead members never leave) while the load goes on and the killed ones
    start again (their start takes longer than that here); their joining is a second rebalance."""
    t0 = time.monotonic()
    for service in SERVICES:
        stack.kill9(service, instance=2)
    await asyncio.sleep(5)
    for service in SERVICES:
        stack.start(service, instance=2)
    for service in SERVICES:
        await stack.wait_ready(service, timeout=90, instance=2)
    down = time.monotonic() - t0
    await wait_caught_up(stack, timeout=150, marks=await wait_for_broker(stack))
    kill = Kill("second instance of each", round(down, 1), round(time.monotonic() - t0, 1))
    print(f"chaos: SIGKILL {kill.target}: back up in {kill.down_s}s, caught up in {kill.recovered_s}s", flush=True)
    return kill
