"""What a crash leaves, and what the orphan sweep does with it, on the real S3 server and the folder store."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta

import pytest

from libs.settings import REPO_ROOT
from libs.storage import FolderObjectStore, ObjectStore, S3ObjectStore, content_key, is_content_key, sweep_orphans
from libs.storage import s3 as s3_module
from tests.integration.storage.conftest import CREDENTIAL, connect, temp_leftovers
from tests.integration.storage.helpers import MB, stream

pytestmark = pytest.mark.infra
GRACE = timedelta(hours=24)


def referencing(keys: set[str]):  # the service's side: which of these keys does a row reference?
    async def referenced(candidates: Collection[str]) -> Collection[str]:
        return [k for k in candidates if k in keys]
    return referenced


async def all_keys(store: ObjectStore) -> list[str]:
    return sorted([info.key async for info in store.list()])


async def test_the_sweep_removes_only_old_unreferenced_objects(store: ObjectStore) -> None:
    kept = await store.put(stream(b"%PDF-1.7 referenced by a row"), max_bytes=MB)
    orphan = await store.put(stream(b"%PDF-1.7 a crash came before its row"), max_bytes=MB)
    rows = referencing({kept.key})

    young = await sweep_orphans(store, rows, grace=GRACE)  # both are minutes old: within the grace period
    assert (young.removed, young.kept_young) == (0, 2)
    assert await all_keys(store) == sorted([kept.key, orphan.key])

    later = datetime.now(UTC) + GRACE + timedelta(minutes=1)  # a day on: both are past the grace period
    old = await sweep_orphans(store, rows, grace=GRACE, now=later)
    assert (old.removed_keys, old.kept_referenced) == ([orphan.key], 1)
    assert await all_keys(store) == [kept.key]

    again = await sweep_orphans(store, rows, grace=GRACE, now=later + GRACE)
    assert again.removed == 0 and await store.exists(kept.key)  # referenced: never removed, however old


async def test_a_sweep_asks_the_service_only_about_old_content_keys(store: ObjectStore) -> None:
    await store.put(stream(b"one"), max_bytes=MB)
    asked: list[str] = []

    async def referenced(candidates: Collection[str]) -> Collection[str]:
        asked.extend(candidates)
        return candidates

    await sweep_orphans(store, referenced, grace=GRACE)
    assert asked == []  # young: nothing to ask
    await sweep_orphans(store, referenced, grace=GRACE, now=datetime.now(UTC) + 2 * GRACE)
    assert len(asked) == 1 and is_content_key(asked[0])


async def test_a_grace_period_shorter_than_two_hours_is_refused(folder_store: FolderObjectStore) -> None:
    await folder_store.put(stream(b"x"), max_bytes=MB)
    with pytest.raises(ValueError, match="grace"):
        await sweep_orphans(folder_store, referencing(set()), grace=timedelta(minutes=5))
    assert len(await all_keys(folder_store)) == 1


async def test_storing_old_bytes_again_renews_their_age(store: ObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    # A put that finds its bytes already stored must keep the sweep off them until its row commits.
    stored = await store.put(stream(b"scan of a birth certificate"), max_bytes=MB)
    if isinstance(store, FolderObjectStore):
        path = store.root / stored.key
        os.utime(path, (0, (datetime.now(UTC) - 2 * GRACE).timestamp()))
    else:
        monkeypatch.setattr(s3_module, "REFRESH_AFTER", timedelta(0))  # S3's time cannot be set: treat it as old
        await asyncio.sleep(1.1)  # S3 keeps last-modified in whole seconds
    before = await store.head(stored.key)
    again = await store.put(stream(b"scan of a birth certificate"), max_bytes=MB)
    after = await store.head(stored.key)
    assert again.key == stored.key and not again.created
    assert before is not None and after is not None and after.last_modified > before.last_modified


async def test_a_writer_killed_mid_upload_leaves_nothing_under_a_final_key(store: ObjectStore) -> None:
    if isinstance(store, FolderObjectStore):
        args = ["folder", str(store.root)]
    else:
        assert isinstance(store, S3ObjectStore)
        args = ["s3", _bucket(store), str(store.temp_dir)]
    await kill_mid_upload(args)
    assert await all_keys(store) == []  # not under its final key, not under any key
    assert len(temp_leftovers(store)) == 1  # only the half-written local temp file…
    young = await sweep_orphans(store, referencing(set()), grace=GRACE)
    assert young.removed_temp == 0 and len(temp_leftovers(store)) == 1  # …kept while it might be in flight…
    old = await sweep_orphans(store, referencing(set()), grace=GRACE, now=datetime.now(UTC) + 2 * GRACE)
    assert (old.removed, old.removed_temp) == (0, 1)  # …and removed once past the grace period
    assert temp_leftovers(store) == []


async def kill_mid_upload(args: list[str], while_alive: Callable[[], Awaitable[None]] | None = None) -> None:
    writer = await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.integration.storage.writer", *args,
                                                  cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE)
    try:
        assert writer.stdout is not None
        line = await asyncio.wait_for(writer.stdout.readline(), timeout=60)
        assert line.strip() == b"STREAMING"
        if while_alive is not None:
            await while_alive()
    finally:
        writer.kill()  # SIGKILL: no finally block, no clean-up in the writer runs
        await writer.wait()
    assert writer.returncode == -9


async def test_a_multipart_upload_killed_after_its_parts_leaves_nothing_under_its_key(s3_store: S3ObjectStore) -> None:
    # The S3 store's own step after spooling: S3 shows an object only once its upload completes.
    key = content_key(hashlib.sha256(b"what the writer never finished").hexdigest())

    async def nothing_visible() -> None:
        await asyncio.sleep(1.0)  # the two 5 MB parts reach S3Proxy meanwhile
        assert await s3_store.head(key) is None and await all_keys(s3_store) == []

    await kill_mid_upload(["multipart", _bucket(s3_store), str(s3_store.temp_dir), key], nothing_visible)
    assert await s3_store.head(key) is None and await all_keys(s3_store) == []


def _bucket(store: ObjectStore) -> str:
    assert isinstance(store, S3ObjectStore)
    return str(store._store.config["bucket"])


async def test_s3proxy_checks_credentials(s3_store: S3ObjectStore, tmp_path: os.PathLike[str]) -> None:
    wrong = connect(_bucket(s3_store), s3_store.temp_dir, secret=CREDENTIAL + "-wrong")
    with pytest.raises(Exception, match=r"(?i)forbidden|denied|signature|403"):
        await wrong.put(stream(b"x"), max_bytes=MB)
    assert await all_keys(s3_store) == []
