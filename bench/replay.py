"""Replay speed of reporting's rebuild: events per second from offset 0 into a fresh generation.

A seeded desk simulation (tests/unit/reporting/simulate.py) is turned into the events intake and processing
publish and written to scratch topics (6 partitions); a scratch database gets the reporting schema; then
`services.reporting.rebuild.rebuild` replays the topics and swaps the generation in. Prints figures and
writes bench/results/replay.json; never asserts on time. Scratch topics and database are removed after.

    .venv/bin/python bench/replay.py [--events 200000] [--batch 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench.common import drop_database, table, write  # noqa: E402
from libs.contracts import topics  # noqa: E402
from libs.db import make_engine, upgrade  # noqa: E402
from services.reporting.rebuild import MIGRATIONS, rebuild  # noqa: E402
from services.reporting.settings import ReportingSettings  # noqa: E402
from tests.integration.reporting.simevents import all_events, publish  # noqa: E402
from tests.unit.reporting.simulate import simulate  # noqa: E402

KAFKA = os.environ.get("ONESTOP_KAFKA_BOOTSTRAP", "localhost:9092")
PG_ADMIN = os.environ.get("ONESTOP_TEST_PG", "postgresql://onestop:onestop@127.0.0.1:5432/postgres")
EVENTS_PER_DOSSIER = 6.5  # what the simulation publishes per dossier, a little under (the list is cut)


def _db_url(name: str) -> str:
    return PG_ADMIN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}"


async def main(want: int, batch: int) -> int:
    run = uuid.uuid4().hex[:8]
    topic_of = {t: f"bench{run}.{t}" for t in topics.ALL}
    db = f"onestop_bench_replay_{run}"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    pg = await asyncpg.connect(PG_ADMIN)
    await pg.execute(f'CREATE DATABASE "{db}"')
    engine = make_engine(_db_url(db))
    try:
        await admin.create_topics([NewTopic(t, 6, 1) for t in topic_of.values()])
        started = time.monotonic()
        per_day = max(1, round(want / EVENTS_PER_DOSSIER / 250))
        events = all_events(simulate(7, months=12, per_day=(per_day - per_day // 5, per_day + per_day // 5)))[:want]
        made = time.monotonic() - started
        started = time.monotonic()
        await publish(KAFKA, events, topic_of)
        published = time.monotonic() - started
        print(f"{len(events)} events made in {made:.1f} s, published in {published:.1f} s")
        await upgrade(engine, MIGRATIONS)
        settings = ReportingSettings(database_url=_db_url(db))
        result = await rebuild(engine, KAFKA, settings, topic_names=list(topic_of.values()), batch=batch, grace=0,
                               progress=print)
    finally:
        await engine.dispose()
        await admin.delete_topics(list(topic_of.values()))
        await admin.close()
        await drop_database(pg, db)
        await pg.close()
    rows = [
        ("events replayed", f"{result.replay_events:,}"),
        ("events applied", f"{result.applied:,}"),
        ("replay (offset 0 → end offsets)", f"{result.replay_seconds:.1f} s"),
        ("replay speed", f"{result.events_per_second:,.0f} events/s  (target ≥ 10,000)"),
        ("whole rebuild incl. indexes + swap", f"{result.seconds:.1f} s"),
        ("batch (records per transaction)", f"{batch:,}"),
    ]
    print(table("reporting rebuild: replay from offset 0", rows))
    path = write("replay", {
        "events": result.replay_events, "applied": result.applied, "replay_seconds": result.replay_seconds,
        "events_per_second": result.events_per_second, "rebuild_seconds": result.seconds, "batch": batch,
        "partitions": 6, "target_events_per_second": 10_000,
    })
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.events, args.batch)))
