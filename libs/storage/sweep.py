"""The orphan sweep: deletes objects that no row references once they are older than a grace period.

Why a grace period: a put stores the object first and the service commits the row that references it after,
so a young unreferenced object may be an upload whose row is on its way. A crash between the two leaves an
object nobody references; this removes it later. Never the reverse: no row ever points at a missing object.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from libs.storage.store import MIN_GRACE, ObjectInfo, ObjectStore, is_content_key

log = logging.getLogger(__name__)

# Given candidate content keys, the service answers which of them a row references (one query per batch, so
# the service never has to load every key it holds).
ReferencedKeys = Callable[[Collection[str]], Awaitable[Collection[str]]]


@dataclass
class SweepReport:
    examined: int = 0
    removed: int = 0
    kept_young: int = 0
    kept_referenced: int = 0
    removed_temp: int = 0  # local temp files of puts a crash interrupted
    removed_keys: list[str] = field(default_factory=list)


async def sweep_orphans(store: ObjectStore, referenced: ReferencedKeys, *, grace: timedelta,
                        now: datetime | None = None, batch: int = 500) -> SweepReport:
    """One pass over the store. `now` is for tests (an old object without waiting a day)."""
    if grace < MIN_GRACE:
        raise ValueError(f"grace must be at least {MIN_GRACE}: a shorter one races uploads in flight")
    cutoff = (now or datetime.now(UTC)) - grace
    report = SweepReport()
    pending: list[ObjectInfo] = []
    async for info in store.list():
        if not is_content_key(info.key):
            continue  # not the store's own: left alone
        report.examined += 1
        if info.last_modified >= cutoff:
            report.kept_young += 1
            continue
        pending.append(info)
        if len(pending) >= batch:
            await _settle(store, referenced, pending, cutoff, report)
            pending = []
    if pending:
        await _settle(store, referenced, pending, cutoff, report)
    report.removed_temp = await store.remove_stale_temp(cutoff)
    # Counts only: keys are hashes, but nothing about a dossier belongs in this log line.
    log.info("orphan sweep: %d examined, %d removed, %d young, %d referenced, %d temp files removed",
             report.examined, report.removed, report.kept_young, report.kept_referenced, report.removed_temp)
    return report


async def _settle(store: ObjectStore, referenced: ReferencedKeys, old: list[ObjectInfo], cutoff: datetime,
                  report: SweepReport) -> None:
    # Ask about references only after listing: a row committed before this answer is seen.
    in_use = set(await referenced([o.key for o in old]))
    for info in old:
        if info.key in in_use:
            report.kept_referenced += 1
            continue
        # Look again just before deleting: a put of the same bytes since the listing renewed its age, and the
        # row that put is about to commit will need it.
        fresh = await store.head(info.key)
        if fresh is None:
            continue
        if fresh.last_modified >= cutoff:
            report.kept_young += 1
            continue
        await store.delete(info.key)
        report.removed += 1
        report.removed_keys.append(info.key)
