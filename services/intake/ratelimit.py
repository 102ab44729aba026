"""An in-process token bucket per client (the citizen look-up is public and guesses 4 digits).

No library: `slowapi`/`limits` would bring decorator machinery and a storage layer for one route; a
bucket is a few lines, testable with an injected time. With several intake replicas each keeps its
own buckets (the limit multiplies by the replicas); a shared limit would need a shared store."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """`capacity` requests at once, refilled at `per_second`; at most `max_keys` clients remembered."""

    def __init__(self, capacity: int, per_second: float, max_keys: int = 10_000) -> None:
        if capacity < 1 or per_second <= 0:
            raise ValueError("capacity must be ≥ 1 and per_second > 0")
        self.capacity, self.per_second, self.max_keys = capacity, per_second, max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str, now: float) -> float:
        """0.0 when the request may go ahead, else the seconds to wait for the next token."""
        bucket = self._buckets.pop(key, None) or _Bucket(float(self.capacity), now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.per_second)
        bucket.at = now
        self._buckets[key] = bucket  # most recently used last
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)  # forgetting a client only gives it a full bucket back
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.per_second
