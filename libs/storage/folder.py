"""`FolderObjectStore`: the embedded default of `make up`, a folder under `.run/`.

Layout: `<root>/sha256/ab/<hex>` for objects, `<root>/tmp/<random>.part` while a put is in flight. A put
writes and fsyncs the temp file, then renames it onto its final name (atomic on one filesystem), so a
crash at any moment leaves either the whole object or none under a final name, at worst a temp file that
the sweep removes after its grace period (`remove_stale_temp`).
"""

from __future__ import annotations

import asyncio
import builtins
import os
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from libs.storage.spool import remove_stale, spooled
from libs.storage.store import (
    CONTENT_PREFIX,
    REFRESH_AFTER,
    ObjectInfo,
    ObjectNotFound,
    StoredObject,
    checked,
    content_key,
    is_content_key,
)

READ_CHUNK = 1024 * 1024


class FolderObjectStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.temp_dir = self.root / "tmp"  # in-flight puts; same filesystem, so rename is atomic

    def _path(self, key: str) -> Path:
        # Keys are checked against a strict pattern first: no `..`, no separators of a caller's making.
        return self.root / checked(key)

    async def put(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> StoredObject:
        async with spooled(chunks, max_bytes=max_bytes, directory=self.temp_dir) as spool:
            key = content_key(spool.sha256)
            created = await asyncio.to_thread(self._settle, spool.path, self._path(key))
        return StoredObject(key=key, sha256=spool.sha256, size=spool.size, created=created)

    @staticmethod
    def _settle(temp: Path, final: Path) -> bool:
        """Move the temp file onto its final name, or keep the copy already there (renewing an old one's age)."""
        try:
            age = datetime.now(UTC).timestamp() - final.stat().st_mtime
            if age >= REFRESH_AFTER.total_seconds():
                os.utime(final)  # same bytes: only the age needs renewing, so the sweep sees a young object
            return False
        except FileNotFoundError:
            pass  # not there, or swept between stat and utime: write it
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, final)
        _fsync_dir(final.parent)
        return True

    async def head(self, key: str) -> ObjectInfo | None:
        try:
            st = await asyncio.to_thread(self._path(key).stat)
        except FileNotFoundError:
            return None
        return ObjectInfo(key=key, size=st.st_size, last_modified=datetime.fromtimestamp(st.st_mtime, UTC))

    async def exists(self, key: str) -> bool:
        return await self.head(key) is not None

    async def get(self, key: str) -> AsyncIterator[bytes]:
        try:
            file = await asyncio.to_thread(self._path(key).open, "rb")
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        return _read(file)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)

    async def list(self, prefix: str = "") -> AsyncIterator[ObjectInfo]:
        # One directory at a time: a store of millions of objects is never held in memory at once.
        for folder in await asyncio.to_thread(self._folders):
            for info in await asyncio.to_thread(self._scan, folder):
                if info.key.startswith(prefix):
                    yield info

    def _folders(self) -> builtins.list[Path]:
        shards = self.root / CONTENT_PREFIX.rstrip("/")
        subdirs = sorted(p for p in shards.iterdir() if p.is_dir()) if shards.is_dir() else []
        return subdirs

    def _scan(self, folder: Path) -> builtins.list[ObjectInfo]:
        found = []
        try:
            entries = builtins.list(os.scandir(folder))
        except FileNotFoundError:
            return []
        for entry in entries:
            key = Path(entry.path).relative_to(self.root).as_posix()
            if not is_content_key(key):
                continue  # not ours (an editor's backup file, say): never listed, so never swept
            try:
                st = entry.stat()
            except FileNotFoundError:
                continue  # removed meanwhile
            found.append(ObjectInfo(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC)))
        return found

    async def remove_stale_temp(self, cutoff: datetime) -> int:
        return await asyncio.to_thread(remove_stale, self.temp_dir, cutoff)

    async def close(self) -> None:
        return None


async def _read(file: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(file.read, READ_CHUNK):
            yield chunk
    finally:
        file.close()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
