"""Waiting for a child process the tests started to answer over HTTP."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx


async def wait_http_ok(name: str, proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float) -> None:
    """Poll `url` until it answers 200; fail early, with the log's tail, if the process exits."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient() as client:
        while asyncio.get_running_loop().time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{_tail(log)}")
            try:
                if (await client.get(url, timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    raise TimeoutError(f"{name} not ready:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
