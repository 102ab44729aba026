"""`S3ObjectStore`: any S3-compatible service through obstore (docs/adr/0013-document-store.md).

A put spools the stream to a private local temp file while hashing and counting it (the byte limit and the
sniffer refuse before any request reaches S3), then uploads the file under its SHA-256 key: one PUT up to
`part_bytes`, a multipart upload above it, read from disk part by part, so no upload is held in memory.
S3 makes an object visible only when its PUT or multipart upload completes, so a writer killed mid-upload
leaves nothing under a final key (an unfinished multipart upload stays invisible; a bucket lifecycle rule
aborts it in production).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import httpx
import obstore
from obstore.store import S3Store

from libs.storage.spool import remove_stale, spooled
from libs.storage.store import (
    REFRESH_AFTER,
    ObjectInfo,
    ObjectNotFound,
    StoredObject,
    checked,
    content_key,
    is_content_key,
)

if TYPE_CHECKING:
    from obstore import ObjectMeta
    from obstore.store import S3Config  # a TypedDict of the stubs only

MIN_PART_BYTES = 5 * 1024 * 1024  # S3's smallest part but the last


class S3ObjectStore:
    def __init__(self, store: S3Store, *, spool_dir: Path | None = None, part_bytes: int = 8 * 1024 * 1024,
                 max_concurrency: int = 2) -> None:
        if part_bytes < MIN_PART_BYTES:
            raise ValueError(f"part_bytes must be at least {MIN_PART_BYTES}")
        self._store = store
        self.temp_dir = spool_dir or Path(tempfile.gettempdir()) / "onestop-uploads"
        self._part_bytes = part_bytes
        # Parts in flight per upload: memory is at most max_concurrency * part_bytes per upload.
        self._concurrency = max_concurrency

    @classmethod
    def connect(cls, *, bucket: str, endpoint: str | None, region: str, access_key_id: str | None,
                secret_access_key: str | None, path_style: bool = True, spool_dir: Path | None = None,
                part_bytes: int = 8 * 1024 * 1024, max_concurrency: int = 2) -> S3ObjectStore:
        """No credentials: obstore takes them from the environment (AWS_* variables, web identity, IMDS)."""
        config: S3Config = {"region": region, "virtual_hosted_style_request": not path_style}
        if endpoint:
            config["endpoint"] = endpoint
        if access_key_id and secret_access_key:
            config["access_key_id"] = access_key_id
            config["secret_access_key"] = secret_access_key
        store = S3Store(
            bucket,
            config=config,
            client_options={
                "allow_http": bool(endpoint and endpoint.startswith("http://")),
                "connect_timeout": timedelta(seconds=5),
                "timeout": timedelta(seconds=120),
            },
            retry_config={"max_retries": 3, "retry_timeout": timedelta(seconds=60)},
        )
        return cls(store, spool_dir=spool_dir, part_bytes=part_bytes, max_concurrency=max_concurrency)

    async def put(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> StoredObject:
        # Not fsynced: the S3 copy is the durable one; a machine that loses this file lost the upload anyway.
        async with spooled(chunks, max_bytes=max_bytes, directory=self.temp_dir, durable=False) as spool:
            key = content_key(spool.sha256)
            existing = await self.head(key)
            if existing is not None and datetime.now(UTC) - existing.last_modified < REFRESH_AFTER:
                return StoredObject(key=key, sha256=spool.sha256, size=spool.size, created=False)
            # Absent, or old enough that the sweep may be about to take it: (re)write the same bytes, which
            # also renews its last-modified time. Overwriting identical bytes is harmless.
            await obstore.put_async(self._store, key, spool.path, chunk_size=self._part_bytes,
                                    max_concurrency=self._concurrency)
        return StoredObject(key=key, sha256=spool.sha256, size=spool.size, created=existing is None)

    async def head(self, key: str) -> ObjectInfo | None:
        try:
            meta = await obstore.head_async(self._store, checked(key))
        except FileNotFoundError:
            return None
        return _info(meta)

    async def exists(self, key: str) -> bool:
        return await self.head(key) is not None

    async def get(self, key: str) -> AsyncIterator[bytes]:
        try:
            result = await obstore.get_async(self._store, checked(key))
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        return _chunks(result.stream(min_chunk_size=1024 * 1024))

    async def delete(self, key: str) -> None:
        await obstore.delete_async(self._store, checked(key))  # S3's DELETE of a missing key succeeds too

    async def list(self, prefix: str = "") -> AsyncIterator[ObjectInfo]:
        async for batch in obstore.list(self._store, prefix or None, chunk_size=1000):
            for meta in batch:
                if is_content_key(meta["path"]):  # the bucket is the store's alone; anything else is left be
                    yield _info(meta)

    async def remove_stale_temp(self, cutoff: datetime) -> int:
        return await asyncio.to_thread(remove_stale, self.temp_dir, cutoff)

    async def create_bucket(self) -> None:
        await _bucket_request(self._store, "PUT")

    async def delete_bucket(self) -> None:
        """Dev and tests only: S3 refuses to delete a bucket that still holds objects."""
        await _bucket_request(self._store, "DELETE")

    async def close(self) -> None:
        return None  # obstore's client holds no resource that needs an explicit close


def _info(meta: ObjectMeta) -> ObjectInfo:
    return ObjectInfo(key=meta["path"], size=meta["size"], last_modified=meta["last_modified"].astimezone(UTC))


async def _chunks(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for chunk in stream:
        yield bytes(chunk)


async def _bucket_request(store: S3Store, method: Literal["PUT", "DELETE"], *, timeout: float = 10.0) -> None:
    """CreateBucket or DeleteBucket, for dev and tests: production buckets are provisioned, with their lifecycle
    rules, by operations. obstore has no bucket API, so this sends S3's own request presigned with the store's
    credentials (signature checked by the server like any other); a bucket we already own counts as created."""
    url = await obstore.sign_async(store, method, "", timedelta(minutes=5))
    async with httpx.AsyncClient(timeout=timeout) as client:
        response = await client.request(method, url)
    if response.status_code not in (200, 204) and "BucketAlreadyOwnedByYou" not in response.text:
        raise RuntimeError(f"{method} bucket failed: HTTP {response.status_code} {response.text[:200]}")
