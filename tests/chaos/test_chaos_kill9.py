"""Chaos under a steady load (issue 15 §4): SIGKILL intake, processing, notifications and reporting in turn, then
the Kafka broker, then PostgreSQL, each started again while dossiers keep arriving and moving through their
lifecycle. Afterwards every accepted dossier has its case, its notices (each SMS stored once at the gateway, each
e-mail one Message-ID at the SMTP server) and its Form 06 count; no consumer lags; the only dead letters are the
poison records the test injected.

It kills the broker and the PostgreSQL the whole test run uses (tests/support/chaos.py `Infra`), and starts them
again before it ends, failed or not; it makes its databases on connections of its own, so the session's
`new_database` connection (if any) never sees the crash. The longer soak is bench/chaos.py."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time

import pytest

from tests.support.chaos import Infra, Kill, Load, chaos_stack, inject_poison, kill_and_recover, verify
from tests.support.stack import SERVICES

pytestmark = pytest.mark.infra
log = logging.getLogger(__name__)
RATE = 4.0  # dossiers per second: a steady desk, well inside what this machine sustains next to the kills
TARGETS = (*SERVICES, "kafka", "postgres")


async def test_kill9_every_part_under_load_loses_and_doubles_nothing(kafka_bootstrap: str) -> None:
    infra = Infra.from_env()
    infra.check_controllable()
    started, since_ms = time.monotonic(), int(time.time() * 1000)
    async with chaos_stack(infra, base_port=18400) as stack:
        load = Load([stack.url("intake")], [stack.url("processing")], rate=RATE)
        running = asyncio.create_task(load.run())
        kills: list[Kill] = []
        try:
            await asyncio.sleep(3)
            poison = await inject_poison(stack, f"chaos-{secrets.token_hex(3)}")
            for target in TARGETS:
                kills.append(await kill_and_recover(stack, infra, target))
                await asyncio.sleep(1)  # some load between one recovery and the next kill
        finally:
            load.stop()
            await running
        report = await verify(stack, load, kills, poison, since_ms)
        report.extra["duration"] = f"{time.monotonic() - started:.0f}s"
        figures = report.figures()
        print(f"\n{figures}")
        log.warning("%s", figures)
        (stack.run_dir / "chaos-figures.txt").write_text(figures, encoding="utf-8")

    assert report.dossiers >= 30 and [k.target for k in kills] == list(TARGETS)
    assert report.lost == [] and report.doubled == [], report.figures()
    assert report.problems == [], report.figures()
    assert sum(report.moved.values()) > 0, "no dossier was moved through its lifecycle"
