"""Small Playwright helpers for the console's browser tests: sign in, and wait for a state to show."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.console.conftest import PASSWORDS


async def sign_in(page: Any, base: str, username: str) -> None:
    await page.goto(f"{base}/sign-in")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORDS[username.split(".")[0]])
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.wait_for_load_state()


async def until_state(page: Any, url: str, selector: str, state: int, timeout: float = 25.0) -> None:
    """Reload `url` until the element's data-state is `state` (the services follow each other's events)."""
    deadline = asyncio.get_running_loop().time() + timeout
    seen: object = None
    while True:
        await page.goto(url)
        found = page.locator(selector)
        seen = await found.get_attribute("data-state") if await found.count() else await page.title()
        if seen == str(state):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{url}: {selector} never showed state {state}; last: {seen!r}")
        await asyncio.sleep(0.7)


async def until_visible(page: Any, url: str, selector: str, timeout: float = 25.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await page.goto(url)
        if await page.locator(selector).count():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{url}: {selector} never appeared")
        await asyncio.sleep(0.7)
