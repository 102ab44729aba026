"""Group commit for the delivery loop: the results of concurrent sends recorded in as few transactions as
possible."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    """Writes items submitted concurrently in as few transactions as possible: the first submitter starts a
    writer; whatever is submitted while it writes goes into its next round. `record` returns once the
    item's transaction committed, and raises if it failed."""

    def __init__(self, write: Callable[[list[T]], Awaitable[None]]) -> None:
        self._write = write
        self._queue: list[tuple[T, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, step: T) -> None:
        done = asyncio.get_running_loop().create_future()
        self._queue.append((step, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())  # runs once the submitters now ready have queued
        await done

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await self._write([step for step, _ in batch])
            except BaseException as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
                if not isinstance(exc, Exception):
                    raise
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
