"""Retry schedule (lịch gửi lại): exponential backoff, capped, inside a delivery window."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, PositiveFloat


class RetryPolicy(BaseModel):
    """Defaults: 30 s, 60 s, 120 s, 240 s, then every 5 min, for 4 hours after the first attempt."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    initial_delay_seconds: PositiveFloat = 30
    max_delay_seconds: PositiveFloat = 300
    window_seconds: PositiveFloat = 4 * 3600


def retry_delay(attempts: int, policy: RetryPolicy) -> timedelta:
    """Delay after the `attempts`-th failed attempt (1-based)."""
    exponent = min(max(attempts, 1) - 1, 32)  # bounded, so the power never overflows
    seconds = min(policy.initial_delay_seconds * 2**exponent, policy.max_delay_seconds)
    return timedelta(seconds=seconds)


def window_closes_at(first_attempt_at: datetime, policy: RetryPolicy) -> datetime:
    return first_attempt_at + timedelta(seconds=policy.window_seconds)


def next_retry_at(
    attempts: int, first_attempt_at: datetime, now: datetime, policy: RetryPolicy | None = None
) -> datetime | None:
    """When to try again after a temporary failure, or None once the window is over
    (the notice then becomes a technical failure)."""
    policy = policy or RetryPolicy()
    if now >= window_closes_at(first_attempt_at, policy):
        return None
    return now + retry_delay(attempts, policy)
