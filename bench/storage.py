"""Document store benchmark: 1 MB scans put into S3Proxy (the test server on port 19000, started here if it
is not running) through `S3ObjectStore`, one at a time and 4 at once; then the same bytes again (deduplicated:
hashed, no upload), reading them back, a few 20 MB files (multipart), and the folder store for comparison.
Figures only, nothing asserted; a fresh bucket per run, emptied at the end.

    .venv/bin/python bench/storage.py --objects 200
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import table, write
from libs.settings import REPO_ROOT
from libs.storage import FolderObjectStore, ObjectStore, S3ObjectStore, content_key

MB = 1024 * 1024
PORT = int(os.environ.get("ONESTOP_TEST_S3_PORT", "19000"))
S3PROXY_SH = REPO_ROOT / "deploy" / "local" / "s3proxy" / "s3proxy.sh"


def ensure_s3proxy() -> None:
    try:
        socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
        return
    except OSError:
        pass
    env = {**os.environ, "S3PROXY_PORT": str(PORT), "ONESTOP_RUN_DIR": str(REPO_ROOT / ".run" / "test")}
    subprocess.run([str(S3PROXY_SH), "start"], env=env, check=True)


async def body(data: bytes, chunk: int = 256 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk):  # as an HTTP body arrives: in pieces
        yield data[start:start + chunk]


async def timed(jobs: list[Callable[[], Awaitable[Any]]], concurrency: int) -> float:
    queue = list(reversed(jobs))

    async def worker() -> None:
        while queue:
            await queue.pop()()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


async def drain(store: ObjectStore, key: str) -> int:
    return sum([len(chunk) async for chunk in await store.get(key)])


def rate(label: str, count: int, size: int, seconds: float) -> tuple[str, str]:
    return label, f"{count / seconds:8.1f} /s  {count * size / MB / seconds:8.1f} MB/s  ({count} x {size // 1024} KiB)"


async def run(store: ObjectStore, objects: int, big: int) -> tuple[list[tuple[str, str]], dict[str, float]]:
    rows: list[tuple[str, str]] = []
    figures: dict[str, float] = {}
    blobs: list[bytes] = []
    for concurrency in (1, 4):
        blobs = [os.urandom(MB) for _ in range(objects)]  # fresh bytes: a real upload each time
        jobs = [lambda b=b: store.put(body(b), max_bytes=20 * MB) for b in blobs]
        seconds = await timed(jobs, concurrency)
        rows.append(rate(f"put 1 MB, {concurrency} at once", objects, MB, seconds))
        figures[f"put_1mb_c{concurrency}_per_s"] = objects / seconds
    # The last round's bytes are stored already: hashed and spooled again, then no upload.
    seconds = await timed([lambda b=b: store.put(body(b), max_bytes=20 * MB) for b in blobs], 4)
    rows.append(rate("put 1 MB again (deduplicated), 4 at once", objects, MB, seconds))
    figures["put_dup_1mb_c4_per_s"] = objects / seconds
    keys = [content_key(hashlib.sha256(b).hexdigest()) for b in blobs]
    seconds = await timed([lambda k=k: drain(store, k) for k in keys], 4)
    rows.append(rate("get 1 MB, 4 at once", objects, MB, seconds))
    figures["get_1mb_c4_per_s"] = objects / seconds
    larges = [os.urandom(20 * MB) for _ in range(big)]
    seconds = await timed([lambda b=b: store.put(body(b, MB), max_bytes=20 * MB) for b in larges], 1)
    rows.append(rate("put 20 MB (multipart on S3), 1 at once", big, 20 * MB, seconds))
    figures["put_20mb_mb_per_s"] = big * 20 / seconds
    return rows, figures


async def empty(store: ObjectStore) -> None:
    async for info in store.list():
        await store.delete(info.key)


async def main(args: argparse.Namespace) -> None:
    ensure_s3proxy()
    with tempfile.TemporaryDirectory() as scratch:
        s3 = S3ObjectStore.connect(bucket=f"onestop-bench-{uuid.uuid4().hex[:10]}", endpoint=f"http://127.0.0.1:{PORT}",
                                   region="us-east-1", access_key_id="onestop-dev",
                                   secret_access_key="onestop-dev-secret", spool_dir=Path(scratch) / "spool")
        await s3.create_bucket()
        folder = FolderObjectStore(Path(scratch) / "documents")
        results: dict[str, Any] = {"objects": args.objects}
        for name, store in (("S3ObjectStore -> S3Proxy", s3), ("FolderObjectStore", folder)):
            try:
                rows, figures = await run(store, args.objects, args.big)
            finally:
                await empty(store)
            print(table(f"{name}: {args.objects} objects", rows), end="\n\n")
            results[name] = figures
        await s3.delete_bucket()
        write("storage", results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=200, help="1 MB objects per phase")
    parser.add_argument("--big", type=int, default=3, help="20 MB objects")
    asyncio.run(main(parser.parse_args()))
