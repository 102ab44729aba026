"""A writer process for the kill -9 tests: streams an upload, says so, then waits mid-stream to be killed.

    python -m tests.integration.storage.writer folder <root>                  a put into the folder store
    python -m tests.integration.storage.writer s3 <bucket> <spool dir>        a put into the S3 store
    python -m tests.integration.storage.writer multipart <bucket> <spool> <key>
        the S3 store's upload step alone: a multipart upload to a final key, parts already sent"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import obstore

from libs.storage import FolderObjectStore, ObjectStore
from tests.integration.storage.conftest import connect

MB = 1024 * 1024


async def upload(megabytes: int = 12) -> AsyncIterator[bytes]:
    for n in range(megabytes):  # 12 MB: past S3's 5 MB part size
        yield bytes([n]) * MB
    print("STREAMING", flush=True)  # the parent kills us now, while the body is still coming in
    await asyncio.sleep(3600)
    yield b"never"


async def main(argv: list[str]) -> None:
    if argv[0] == "multipart":
        s3 = connect(argv[1], Path(argv[2]))
        # The same call S3ObjectStore.put makes, but from a stream that stalls after two full parts.
        await obstore.put_async(s3._store, argv[3], upload(11), chunk_size=5 * MB, max_concurrency=2)
        return
    store: ObjectStore = FolderObjectStore(Path(argv[1])) if argv[0] == "folder" else connect(argv[1], Path(argv[2]))
    await store.put(upload(), max_bytes=20 * MB)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
