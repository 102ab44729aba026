"""The identity provider's signing keys (a JWKS URL), fetched off the event loop and kept.

One fetch at a time: callers that need the keys while a fetch runs wait for that same fetch, in a worker
thread, so a slow or hanging identity provider never stalls the event loop (other requests go on). The set is
fetched again after `ttl` seconds, or early when a token names a key id we do not know (a key rotation) — but
not more often than every `min_interval` seconds, so tokens with made-up key ids cannot make us hammer the
provider. When a refresh fails, the keys we already have keep serving."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import structlog

from libs.auth.errors import AuthError, KeysUnavailable

log = structlog.get_logger(__name__)

Fetch = Callable[[str, float], dict[str, Any]]


def fetch_jwks(url: str, timeout: float) -> dict[str, Any]:
    """GET the key set (blocking: run it in a worker thread)."""
    response = httpx.get(url, timeout=timeout, follow_redirects=False)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


class JwksKeys:
    def __init__(
        self, url: str, ttl: float = 300.0, min_interval: float = 30.0, timeout: float = 5.0,
        fetch: Fetch = fetch_jwks, timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url, self.ttl, self.min_interval, self.timeout = url, ttl, min_interval, timeout
        self._fetch, self._timer = fetch, timer
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at = -float("inf")  # last successful fetch
        self._tried_at = -float("inf")  # last attempt started, successful or not
        self._inflight: asyncio.Future[None] | None = None
        self.fetches = 0  # attempts so far (tests and metrics read it)

    async def key(self, kid: str | None) -> jwt.PyJWK:
        """The key a token's header names. A stale set is refreshed in the background while its keys go on
        serving; only a token naming a key we do not know waits, for the one fetch in flight."""
        if self._should_refresh(kid):
            self._tried_at = self._timer()
            self._inflight = asyncio.ensure_future(asyncio.to_thread(self._fetch_now))
        task = self._pending()
        if task is not None and kid not in self._keys:
            await asyncio.shield(task)  # a caller that gives up does not cancel the others' fetch
        return self._known(kid)

    def key_blocking(self, kid: str | None) -> jwt.PyJWK:
        """The same, fetching in the calling thread (command-line tools and tests, never a request)."""
        if self._should_refresh(kid):
            self._tried_at = self._timer()
            self._fetch_now()
        return self._known(kid)

    def _should_refresh(self, kid: str | None) -> bool:
        if self._pending() is not None:
            return False  # one fetch at a time
        now = self._timer()
        if now - self._tried_at < self.min_interval:
            return False
        return now - self._fetched_at >= self.ttl or kid not in self._keys

    def _fetch_now(self) -> None:
        self.fetches += 1
        try:
            keys = _signing_keys(self._fetch(self.url, self.timeout))
        except Exception as exc:  # unreachable, refused, not a key set: keep the keys we have
            log.warning("jwks_fetch_failed", url=self.url, error=f"{type(exc).__name__}: {exc}")
            return
        self._keys, self._fetched_at = keys, self._timer()  # one new dict: readers see the old or the new set

    def _pending(self) -> asyncio.Future[None] | None:
        task = self._inflight
        return None if task is None or task.done() or task.get_loop().is_closed() else task

    def _known(self, kid: str | None) -> jwt.PyJWK:
        keys = self._keys
        if not keys:
            raise KeysUnavailable("the identity provider's signing keys cannot be fetched")
        key = keys.get(kid)
        if key is None:
            raise AuthError(f"the identity provider has no signing key with id {kid!r}")
        return key


def _signing_keys(data: dict[str, Any]) -> dict[str | None, jwt.PyJWK]:
    """Signature keys by id (`use` absent or "sig"); a set of one key also answers a token without `kid`."""
    keys: dict[str | None, jwt.PyJWK] = {}
    for item in jwt.PyJWKSet.from_dict(data).keys:
        if item.public_key_use in (None, "sig"):
            keys[item.key_id] = item
    if not keys:
        raise ValueError("the key set holds no signing key")
    if len(keys) == 1:
        keys.setdefault(None, next(iter(keys.values())))
    return keys
