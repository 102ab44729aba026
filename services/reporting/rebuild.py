"""Rebuild reporting's read model from offset 0 of the topics it folds, then swap it in without downtime.

    python -m services.reporting.rebuild [--no-swap] [--batch 10000] [--grace 10]

1. A new generation of tables (`rm<N+1>_…`) is created empty, secondary indexes postponed.
2. Every partition of the topics it folds (intake, processing) is assigned (no consumer group, nothing
   committed) and read from the beginning to the end offsets captured at the start, in batches: decode,
   fold into fact rows in memory (the live consumer's own fold, `readmodel.apply_events`), write rows and
   rollup deltas in one transaction per batch. Then the indexes are built.
3. Catch-up and swap: read to the current end offsets, then in ONE transaction lock the pointer row,
   check that every event the live consumer applied since step 2 began is in the new generation, and
   point `read_model.generation` at it. If the live consumer got ahead, read on and try again. Events
   the rebuild applied ahead of the live consumer are skipped by it later (the generation's own
   `applied` table), so nothing is lost or applied twice.
4. After a grace period (readers that followed the old pointer finish) the old tables are dropped.

Why a pointer row rather than `ALTER TABLE … RENAME` in one transaction: a rename takes ACCESS EXCLUSIVE
locks on the live tables, so one long report query stalls the swap and every query queues behind it;
renames also clash with SQLite's global index names and confuse Alembic autogenerate. Swapping a one-row
pointer is one UPDATE; readers never wait (each request follows the pointer it read), and live writers,
which hold the pointer row FOR SHARE while they apply an event, are ordered before or after the swap.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.calendar import WorkCalendar, load_calendar
from libs.contracts import ContractError, decode, read_envelope
from libs.db import make_engine, upgrade
from libs.messaging.security import client_options, kafka_security
from libs.settings import CommonSettings
from services.reporting.domain.projection import CONSUMED, Baked, Item, handled_events
from services.reporting.readmodel import apply_events
from services.reporting.settings import ReportingSettings
from services.reporting.store.generations import (
    NotCaughtUp,
    drop_generations,
    set_status,
    stale_generations,
    start_generation,
    swap,
)
from services.reporting.store.tables import GenerationTables

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"  # the same as app.MIGRATIONS
HANDLED = frozenset(handled_events())


@dataclass
class RebuildResult:
    generation: int
    replaced: int | None  # the generation swapped out (None with swap=False)
    records: int  # records read from Kafka
    applied: int  # events applied to the new generation
    replay_seconds: float  # step 2 (from offset 0 to the end offsets captured at the start)
    replay_events: int
    seconds: float
    caught_up: int = 0  # records read after the first end offsets (events that arrived meanwhile)
    swap_attempts: int = 0

    @property
    def events_per_second(self) -> float:
        return self.replay_events / self.replay_seconds if self.replay_seconds > 0 else 0.0


class _Replayer:
    def __init__(self, engine: AsyncEngine, tables: GenerationTables, baked: Baked, calendar: WorkCalendar,
                 consumer: AIOKafkaConsumer, batch: int, progress: Callable[[str], None]) -> None:
        self.engine, self.tables, self.baked, self.consumer = engine, tables, baked, consumer
        self.calendar = calendar
        self.batch, self.progress = batch, progress
        self.records = self.applied = self.skipped = 0
        self._last_report = time.monotonic()

    async def until(self, targets: dict[TopicPartition, int]) -> None:
        """Apply everything up to at least `targets` (records beyond may be applied too). Fetching and
        decoding the next batch overlaps with writing the current one (the database works meanwhile)."""
        queue: asyncio.Queue[list[Item] | None] = asyncio.Queue(maxsize=2)
        reader = asyncio.create_task(self._read(targets, queue))
        try:
            while (items := await queue.get()) is not None:
                if items:
                    async with self.engine.begin() as conn:
                        applied, _ = await conn.run_sync(apply_events, self.tables, self.baked, items,
                                                         self.calendar)
                    self.applied += applied
                self._report()
        finally:
            if not reader.done():
                reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _read(self, targets: dict[TopicPartition, int], queue: asyncio.Queue[list[Item] | None]) -> None:
        try:
            while behind := [tp for tp, end in targets.items() if await self.consumer.position(tp) < end]:
                data = await self.consumer.getmany(*behind, timeout_ms=1000, max_records=self.batch)
                items: list[Item] = []
                for records in data.values():
                    self.records += len(records)
                    items.extend(self._decode(records))
                await queue.put(items)
        finally:
            await queue.put(None)

    def _decode(self, records: Sequence[ConsumerRecord]) -> list[Item]:
        out: list[Item] = []
        for record in records:
            try:
                envelope = read_envelope(dict(record.headers or ()))
                event = decode(envelope, record.value or b"")
            except ContractError:
                self.skipped += 1  # the live consumer dead-letters it; it never reaches the read model
                continue
            if event is None or type(event) not in HANDLED:
                self.skipped += 1
                continue
            out.append((envelope.id, event, envelope))
        return out

    def _report(self) -> None:
        if time.monotonic() - self._last_report >= 5:
            self._last_report = time.monotonic()
            self.progress(f"generation {self.tables.generation}: {self.records} records read, "
                          f"{self.applied} events applied")


def _kafka() -> dict[str, object]:
    """The TLS and principal of ONESTOP_KAFKA_* (reporting's own, it only reads), as for the live consumer."""
    return client_options(kafka_security(CommonSettings()))


async def _partitions(bootstrap: str, topic_names: Sequence[str]) -> list[TopicPartition]:
    """Every partition of the topics that exist (a topic nobody produced to yet has nothing to replay)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="onestop-reporting-rebuild", **_kafka())
    await admin.start()
    try:
        described = await admin.describe_topics(list(topic_names))
    finally:
        await admin.close()
    return [TopicPartition(t["topic"], p["partition"]) for t in described if t["error_code"] == 0
            for p in sorted(t["partitions"], key=lambda p: p["partition"])]


async def rebuild(engine: AsyncEngine, bootstrap: str, settings: ReportingSettings, *,
                  topic_names: Sequence[str] = CONSUMED, do_swap: bool = True, batch: int | None = None,
                  grace: float | None = None, max_rounds: int = 100,
                  progress: Callable[[str], None] = log.info, calendar: WorkCalendar | None = None) -> RebuildResult:
    """Build a new generation from the log; with `do_swap`, make it live and drop the old one. `calendar`: the
    one the live consumer folds with (default: calendar.yaml under ONESTOP_CONFIG_DIR, as the service loads it)."""
    started = time.monotonic()
    baked = Baked(settings.timezone, settings.judge_to_minute)
    calendar = calendar or load_calendar(CommonSettings().config_file("calendar.yaml"))
    await drop_generations(engine, await stale_generations(engine))  # what an earlier attempt left
    tables = await start_generation(engine, baked)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
        max_poll_records=batch or settings.rebuild_batch, fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024, client_id="onestop-reporting-rebuild", **_kafka())
    await consumer.start()
    replaced: int | None = None
    try:
        parts = await _partitions(bootstrap, topic_names)
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        since = datetime.now(UTC)  # before the end offsets: anything applied live later is checked at the swap
        targets = await consumer.end_offsets(parts)
        replayer = _Replayer(engine, tables, baked, calendar, consumer, batch or settings.rebuild_batch, progress)
        replay_start = time.monotonic()
        await replayer.until(targets)
        replay_seconds, replay_events = time.monotonic() - replay_start, replayer.records
        progress(f"generation {tables.generation}: replayed {replay_events} records in {replay_seconds:.1f} s")
        async with engine.begin() as conn:
            await conn.run_sync(tables.create_indexes)
        attempts = 0
        if do_swap:
            for round_ in range(max_rounds):
                await replayer.until(await consumer.end_offsets(parts))
                attempts += 1
                try:
                    replaced = await swap(engine, tables.generation, since, replayer.applied)
                    break
                except NotCaughtUp as exc:
                    progress(f"not swapped yet: {exc}")
                    await asyncio.sleep(min(2.0, 0.1 * (round_ + 1)))
            else:
                raise RuntimeError(f"the live consumer stayed ahead for {max_rounds} rounds")
        else:
            await set_status(engine, tables.generation, "standby", replayer.applied)
    except BaseException:
        await set_status(engine, tables.generation, "failed")
        raise
    finally:
        await consumer.stop()
    if replaced is not None:
        progress(f"generation {tables.generation} is live (replaced {replaced})")
        await asyncio.sleep(settings.rebuild_grace_seconds if grace is None else grace)
        await drop_generations(engine, [replaced])
    return RebuildResult(tables.generation, replaced, replayer.records, replayer.applied, replay_seconds,
                         replay_events, time.monotonic() - started, replayer.records - replay_events, attempts)


async def _main(args: argparse.Namespace) -> int:
    common, settings = CommonSettings(), ReportingSettings()
    engine = make_engine(settings.db_url("reporting", common))
    try:
        await upgrade(engine, MIGRATIONS)
        result = await rebuild(engine, common.kafka_bootstrap, settings, do_swap=not args.no_swap,
                               batch=args.batch, grace=args.grace, progress=print,
                               calendar=load_calendar(common.config_file("calendar.yaml")))
    finally:
        await engine.dispose()
    state = f"live, replaced generation {result.replaced}" if result.replaced else "built, not swapped in"
    print(f"generation {result.generation} {state}: {result.records} records read, {result.applied} events "
          f"applied in {result.seconds:.1f} s; replay {result.events_per_second:,.0f} events/s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.reporting.rebuild", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-swap", action="store_true", help="build the new generation but leave the old live")
    parser.add_argument("--batch", type=int, default=None, help="records per transaction (default from settings)")
    parser.add_argument("--grace", type=float, default=None, help="seconds before the old tables are dropped")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
