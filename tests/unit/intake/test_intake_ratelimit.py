"""The look-up's token bucket per client address."""

from __future__ import annotations

import pytest

from services.intake.ratelimit import TokenBuckets


def test_a_burst_then_the_refill_rate() -> None:
    buckets = TokenBuckets(capacity=3, per_second=0.5)
    assert [buckets.take("1.2.3.4", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("1.2.3.4", 0.0) == pytest.approx(2.0)  # next token in 2 s
    assert buckets.take("1.2.3.4", 1.0) == pytest.approx(1.0)
    assert buckets.take("1.2.3.4", 2.0) == 0.0
    assert buckets.take("5.6.7.8", 2.0) == 0.0, "another client has its own bucket"


def test_tokens_never_exceed_the_capacity() -> None:
    buckets = TokenBuckets(capacity=2, per_second=1)
    buckets.take("a", 0.0)
    assert [buckets.take("a", 1000.0) for _ in range(3)][-1] > 0


def test_memory_is_bounded() -> None:
    buckets = TokenBuckets(capacity=1, per_second=1, max_keys=2)
    for client in ("a", "b", "c"):
        buckets.take(client, 0.0)
    assert buckets.take("a", 0.0) == 0.0, "the oldest client was forgotten (a full bucket again)"
    with pytest.raises(ValueError):
        TokenBuckets(capacity=0, per_second=1)
