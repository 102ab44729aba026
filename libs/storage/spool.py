"""Stream an upload into a private temp file while hashing and counting it: the one place the byte limit is
enforced, shared by both stores. Nothing is kept in memory beyond one chunk."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from libs.storage.store import TooLarge


@dataclass(frozen=True)
class Spooled:
    path: Path
    sha256: str
    size: int


def temp_name() -> str:
    # Random, never derived from the caller's file name: the name is all a crash leaves behind.
    return f"{uuid.uuid4().hex}.part"


def _create(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL + 0600: a fresh file only this process's user can read; scans are personal data.
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _append(file: BinaryIO, digest: hashlib._Hash, chunk: bytes) -> None:
    digest.update(chunk)  # hashlib releases the GIL for large buffers, so this thread does not stall the loop
    file.write(chunk)


def _seal(file: BinaryIO) -> None:
    # Durable before anyone renames or uploads it: a power cut must not leave a short file under a final name.
    file.flush()
    os.fsync(file.fileno())


def remove_stale(directory: Path, cutoff: datetime) -> int:
    """Temp files last written before `cutoff`: what writers killed mid-upload left (blocking; run in a thread)."""
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.name.endswith(".part") and entry.stat().st_mtime < cutoff.timestamp():
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            continue  # finished or removed meanwhile
    return removed


@asynccontextmanager
async def spooled(chunks: AsyncIterable[bytes], *, max_bytes: int, directory: Path,
                  durable: bool = True) -> AsyncIterator[Spooled]:
    """Yields the complete temp file (fsynced if `durable`: it is about to become the object itself); removes
    it on exit unless the caller moved it away. Raises TooLarge before writing the chunk that would pass
    `max_bytes`."""
    if max_bytes < 0:
        raise ValueError("max_bytes must not be negative")
    path = directory / temp_name()
    try:
        digest = hashlib.sha256()
        size = 0
        with await asyncio.to_thread(_create, path) as file:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(max_bytes)
                await asyncio.to_thread(_append, file, digest, chunk)
            if durable:
                await asyncio.to_thread(_seal, file)
        yield Spooled(path=path, sha256=digest.hexdigest(), size=size)
    finally:
        path.unlink(missing_ok=True)
