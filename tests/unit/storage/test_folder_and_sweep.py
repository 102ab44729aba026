"""The spool's limit to the byte, the folder store's atomic layout, and the sweep's re-check before deleting."""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from libs.storage import FolderObjectStore, ObjectInfo, TooLarge, sweep_orphans
from libs.storage.spool import spooled

GRACE = timedelta(hours=24)


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


async def test_the_limit_is_exact_to_the_byte(tmp_path: Path) -> None:
    async with spooled(chunks(b"a" * 6, b"b" * 4), max_bytes=10, directory=tmp_path) as spool:
        assert spool.size == 10 and spool.path.read_bytes() == b"a" * 6 + b"b" * 4
        assert stat.S_IMODE(spool.path.stat().st_mode) == 0o600  # scans are personal data
    with pytest.raises(TooLarge):
        async with spooled(chunks(b"a" * 6, b"b" * 5), max_bytes=10, directory=tmp_path):
            pass
    assert files_under(tmp_path) == []  # the temp file goes either way


async def test_objects_land_under_their_hash_only(tmp_path: Path) -> None:
    store = FolderObjectStore(tmp_path)
    stored = await store.put(chunks(b"%PDF-1.7 scan"), max_bytes=100)
    assert files_under(tmp_path) == [stored.key]


def age(store: FolderObjectStore, key: str, by: timedelta) -> None:
    when = (datetime.now(UTC) - by).timestamp()
    os.utime(store.root / key, (when, when))


def rows(*keys: str):  # which of the candidates a row references
    async def referenced(candidates: Collection[str]) -> Collection[str]:
        return [k for k in candidates if k in keys]
    return referenced


async def test_one_pass_keeps_the_young_and_the_referenced_and_removes_the_old_orphan(tmp_path: Path) -> None:
    store = FolderObjectStore(tmp_path)
    young = await store.put(chunks(b"young orphan"), max_bytes=100)
    old = await store.put(chunks(b"old orphan"), max_bytes=100)
    used = await store.put(chunks(b"old, referenced"), max_bytes=100)
    age(store, old.key, 3 * GRACE)
    age(store, used.key, 30 * GRACE)

    report = await sweep_orphans(store, rows(used.key), grace=GRACE)

    assert report.removed_keys == [old.key]
    assert (report.examined, report.kept_young, report.kept_referenced) == (3, 1, 1)
    assert await store.exists(young.key) and await store.exists(used.key) and not await store.exists(old.key)


class RenewedOnHead(FolderObjectStore):
    """A put of the same bytes lands between the sweep's listing and its delete (renewing the object's age)."""

    async def head(self, key: str) -> ObjectInfo | None:
        os.utime(self.root / key)
        return await super().head(key)


async def test_an_object_renewed_after_the_listing_is_kept(tmp_path: Path) -> None:
    store = RenewedOnHead(tmp_path)
    stored = await store.put(chunks(b"stored again meanwhile"), max_bytes=100)
    age(store, stored.key, 3 * GRACE)
    report = await sweep_orphans(store, rows(), grace=GRACE)
    assert report.removed == 0 and await store.exists(stored.key)


async def test_stale_temp_files_go_and_fresh_ones_stay(tmp_path: Path) -> None:
    store = FolderObjectStore(tmp_path)
    store.temp_dir.mkdir(parents=True)
    stale, fresh = store.temp_dir / ("a" * 32 + ".part"), store.temp_dir / ("b" * 32 + ".part")
    stale.write_bytes(b"half an upload")
    fresh.write_bytes(b"an upload in flight")
    when = (datetime.now(UTC) - 2 * GRACE).timestamp()
    os.utime(stale, (when, when))
    report = await sweep_orphans(store, rows(), grace=GRACE)
    assert report.removed_temp == 1 and not stale.exists() and fresh.exists()
