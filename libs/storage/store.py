"""The document store's contract: content-addressed objects, streamed in under a byte limit, listed for the sweep.

A key is `sha256/<first two hex>/<64 hex>` of the bytes, so the same bytes are stored once and a key carries no
personal data: never a citizen's name, never the file name a browser sent. A put streams into a local temp file
first (random name, `<temp_dir>/<32 hex>.part`); a writer that crashes leaves at most that file, which the sweep
removes once it is older than its grace period.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

CONTENT_PREFIX = "sha256/"
_CONTENT_KEY = re.compile(r"sha256/([0-9a-f]{2})/\1[0-9a-f]{62}")
_HEX = re.compile(r"[0-9a-f]{64}")

# A put that finds its bytes already stored skips the upload only when the object is younger than this; an
# older one is written again, which renews its last-modified time. The sweep deletes only objects older than
# its grace period, so a row committed within (grace - REFRESH_AFTER) of a put never points at swept bytes.
REFRESH_AFTER = timedelta(hours=1)
# The sweep refuses a shorter grace period: it would race uploads whose rows are not committed yet.
MIN_GRACE = 2 * REFRESH_AFTER


class StorageError(Exception):
    """Base of the store's refusals; messages hold sizes and keys, never file names or personal data."""


class TooLarge(StorageError):
    """The stream passed its byte limit; nothing was stored under a final key."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the upload is larger than its limit of {limit} bytes")
        self.limit = limit


class UnsupportedMediaType(StorageError):
    """The first bytes are none of the accepted types (decided from the bytes, never the name)."""


class ObjectNotFound(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no object under {key}")
        self.key = key


class InvalidKey(StorageError, ValueError):
    """Not a content key: refused before it can become a path or a URL."""

    def __init__(self) -> None:
        # The refused text is not echoed: it may be a caller's file name.
        super().__init__("not a document store key")


def content_key(sha256_hex: str) -> str:
    if not _HEX.fullmatch(sha256_hex):
        raise InvalidKey()
    return f"{CONTENT_PREFIX}{sha256_hex[:2]}/{sha256_hex}"


def is_content_key(key: str) -> bool:
    return _CONTENT_KEY.fullmatch(key) is not None


def checked(key: str) -> str:
    """The key, if it is a content key: the only keys a store reads, deletes or turns into a path."""
    if not is_content_key(key):
        raise InvalidKey()
    return key


@dataclass(frozen=True)
class StoredObject:
    key: str
    sha256: str
    size: int
    created: bool  # False when the same bytes were already stored (deduplicated)


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    last_modified: datetime  # timezone-aware UTC


class ObjectStore(Protocol):
    async def put(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> StoredObject:
        """Store the stream under its SHA-256 key. Raises TooLarge as soon as it passes `max_bytes`, before
        anything exists under a final key; an exception from `chunks` (e.g. a sniffer's refusal) likewise."""
        ...

    async def head(self, key: str) -> ObjectInfo | None: ...

    async def exists(self, key: str) -> bool: ...

    async def get(self, key: str) -> AsyncIterator[bytes]:
        """Awaiting finds the object (ObjectNotFound if missing); the returned iterator streams its bytes."""
        ...

    async def delete(self, key: str) -> None:
        """Idempotent: deleting a missing object is no error."""
        ...

    def list(self, prefix: str = "") -> AsyncIterator[ObjectInfo]:
        """Every stored object with its last-modified time, for the orphan sweep."""
        ...

    async def remove_stale_temp(self, cutoff: datetime) -> int:
        """Delete the local temp files of puts that a crash interrupted before `cutoff`; returns how many."""
        ...

    async def close(self) -> None: ...
