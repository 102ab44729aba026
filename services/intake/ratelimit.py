"""Limits on the citizen look-up, which is public and guesses only 4 digits (10,000 values per dossier code).

Two limits, both token buckets in process memory:
- per client: a burst, then a steady rate per address. The address is the connecting peer's; an
  `X-Forwarded-For` header is believed only from a trusted proxy (ONESTOP_INTAKE_TRUSTED_PROXIES), so rotating
  the header buys nothing. IPv6 clients count per /64, the block one subscriber usually holds.
- per dossier code: failed look-ups of one code, whoever makes them, so many addresses cannot share out the
  guessing. A look-up spends one of the code's tokens before it runs, and a successful one gives it back: the
  owner, who knows the digits, never wears the limit down. Once a code's tokens are gone every look-up of it
  is refused until they refill, the owner's too — answering a right guess while refusing wrong ones would tell
  a guesser which one was right. With the defaults (10, then 10 a day) guessing a code takes years; an owner
  locked out by someone else's guessing can ask at the desk.

Both stores are LRU caches of bounded size (`cachetools`): a flood of distinct keys pushes out the least
recently used, and forgetting a key only gives it a full bucket back. A bucket refilled to the brim is dropped
at once (it says nothing a missing one does not), so the per-code store holds only codes with failures.
No library for the buckets themselves: `slowapi`/`limits` would bring decorator machinery and a storage layer
for one route. With several intake replicas each keeps its own buckets (the limits multiply by the replicas);
a shared limit would need a shared store."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from cachetools import LRUCache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """`capacity` requests at once, refilled at `per_second`; at most `max_keys` keys remembered."""

    def __init__(self, capacity: int, per_second: float, max_keys: int = 100_000) -> None:
        if capacity < 1 or per_second <= 0 or max_keys < 1:
            raise ValueError("capacity and max_keys must be ≥ 1 and per_second > 0")
        self.capacity, self.per_second, self.max_keys = capacity, per_second, max_keys
        self._buckets: LRUCache[str, _Bucket] = LRUCache(max_keys)

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, now: float) -> float:
        """0.0 when the request may go ahead (a token is spent), else the seconds until the next token."""
        bucket = self._refilled(key, now)
        self._buckets[key] = bucket  # most recently used
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.per_second

    def give_back(self, key: str, now: float) -> None:
        """Return a token `take` spent (the request turned out not to count)."""
        bucket = self._refilled(key, now)
        bucket.tokens = min(float(self.capacity), bucket.tokens + 1)
        if bucket.tokens >= self.capacity:
            self._buckets.pop(key, None)  # a full bucket is what a missing key gets anyway
        else:
            self._buckets[key] = bucket

    def _refilled(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key) or _Bucket(float(self.capacity), now)
        bucket.tokens = min(float(self.capacity), bucket.tokens + max(0.0, now - bucket.at) * self.per_second)
        bucket.at = now
        return bucket


def networks(spec: str) -> tuple[Network, ...]:
    """'10.0.0.5, 10.1.0.0/16, ::1' → networks; a bad entry raises ValueError naming it."""
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec.split(",") if item.strip())


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: tuple[Network, ...]) -> str:
    """The client's address: the peer's, or — when the peer is a trusted proxy — the nearest address in
    `X-Forwarded-For` that is not itself a trusted proxy (read from the right: the left part is whatever the
    client chose to send). IPv6 addresses are cut to their /64."""
    ip = _ip(peer)
    if ip is None:
        return peer or UNKNOWN
    if _trusted(ip, trusted):
        hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
        for hop in reversed(hops):
            hop_ip = _ip(hop)
            if hop_ip is None:
                break  # a trusted proxy passed on junk: count the request against the proxy itself
            ip = hop_ip
            if not _trusted(hop_ip, trusted):
                break
    return _key(ip)


def _ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text:
        return None
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: tuple[Network, ...]) -> bool:
    return any(ip.version == net.version and ip in net for net in trusted)


def _key(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass
class LookupLimits:
    """The look-up's two limits and the proxies whose forwarded addresses are believed."""

    clients: TokenBuckets
    codes: TokenBuckets
    trusted: tuple[Network, ...] = ()
