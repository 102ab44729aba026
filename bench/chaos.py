"""The chaos soak (issue 15 §4): the scenario of tests/chaos/test_chaos_kill9.py for longer — a steady load of
dossiers moving through their lifecycle while intake, processing, notifications, reporting, the Kafka broker and
PostgreSQL are SIGKILLed in turn, round after round, each started again; then the same end-state checks. Prints
the figures (dossiers, kills, lost, doubled, time back up and time caught up per kill) and writes
bench/results/chaos.json. It kills the broker and PostgreSQL the tests use (tests/support/chaos.py `Infra`:
ONESTOP_KAFKA_BOOTSTRAP, ONESTOP_TEST_PG, ONESTOP_TEST_KAFKA_RUN_DIR, ONESTOP_TEST_PG_RUN_DIR): never run it
against infrastructure other people are using.

    ONESTOP_KAFKA_BOOTSTRAP=localhost:19092 .venv/bin/python bench/chaos.py --rounds 3 --rate 10 --gap 20
    … --instances 2       two processes of each service, the second one of a service killed in its turn
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import write
from tests.support.chaos import Infra, Kill, Load, chaos_stack, inject_poison, kill_and_recover, verify
from tests.support.stack import SERVICES

TARGETS = (*SERVICES, "kafka", "postgres")


async def soak(rounds: int, rate: float, gap: float, instances: int, base_port: int) -> int:
    infra = Infra.from_env()
    infra.check_controllable()
    started, since_ms = time.monotonic(), int(time.time() * 1000)
    async with chaos_stack(infra, base_port=base_port, instances=instances) as stack:
        load = Load([stack.url("intake", n) for n in range(1, instances + 1)],
                    [stack.url("processing", n) for n in range(1, instances + 1)], rate=rate)
        running = asyncio.create_task(load.run())
        kills: list[Kill] = []
        try:
            await asyncio.sleep(gap)
            poison = await inject_poison(stack, f"soak-{secrets.token_hex(3)}")
            for _ in range(rounds):
                for target in TARGETS:
                    kills.append(await kill_and_recover(stack, infra, target, instance=instances))
                    await asyncio.sleep(gap)
        finally:
            load.stop()
            await running
        report = await verify(stack, load, kills, poison, since_ms)
    report.extra["duration"] = f"{time.monotonic() - started:.0f}s"
    print(report.figures())
    path = write("chaos", {"rounds": rounds, "rate": rate, "gap_s": gap, "instances": instances,
                           **{k: v for k, v in asdict(report).items() if k != "kills"},
                           "kills": [asdict(k) for k in kills], "lost_n": len(report.lost),
                           "doubled_n": len(report.doubled)})
    print(f"written {path}")
    return 0 if not (report.lost or report.doubled or report.problems) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="times every part is killed (default 3)")
    parser.add_argument("--rate", type=float, default=10.0, help="dossiers posted per second (default 10)")
    parser.add_argument("--gap", type=float, default=20.0, help="seconds of load between kills (default 20)")
    parser.add_argument("--instances", type=int, default=1, choices=(1, 2), help="processes of each service")
    parser.add_argument("--base-port", type=int, default=18600, help="services on base+1…+4 (second: +10)")
    args = parser.parse_args()
    return asyncio.run(soak(args.rounds, args.rate, args.gap, args.instances, args.base_port))


if __name__ == "__main__":
    raise SystemExit(main())
