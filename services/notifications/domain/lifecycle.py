"""Notice lifecycle (vòng đời thông báo), after GOV.UK Notify:
created → sending → delivered | temporary_failure | permanent_failure | technical_failure, plus expired."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from services.notifications.domain.delivery import DeliveryResult, DeliveryStatus
from services.notifications.domain.retry import RetryPolicy, next_retry_at


class NoticeStatus(StrEnum):
    CREATED = "created"
    SENDING = "sending"
    DELIVERED = "delivered"
    TEMPORARY_FAILURE = "temporary_failure"  # will be retried at next_retry_at
    PERMANENT_FAILURE = "permanent_failure"  # bad address / refused by the provider
    TECHNICAL_FAILURE = "technical_failure"  # retry window exhausted (or our side broken)
    EXPIRED = "expired"  # became pointless before it went out (see stale.py)


S = NoticeStatus
ALLOWED: dict[NoticeStatus, frozenset[NoticeStatus]] = {
    S.CREATED: frozenset({S.SENDING, S.EXPIRED}),
    S.SENDING: frozenset({S.DELIVERED, S.TEMPORARY_FAILURE, S.PERMANENT_FAILURE, S.TECHNICAL_FAILURE}),
    S.TEMPORARY_FAILURE: frozenset({S.SENDING, S.TECHNICAL_FAILURE, S.EXPIRED}),
    S.TECHNICAL_FAILURE: frozenset({S.SENDING}),  # only by an operator's manual retry
    S.DELIVERED: frozenset(),
    S.PERMANENT_FAILURE: frozenset(),
    S.EXPIRED: frozenset(),
}
FINAL = frozenset(status for status, targets in ALLOWED.items() if not targets)


class IllegalTransitionError(ValueError):
    def __init__(self, current: NoticeStatus, target: NoticeStatus) -> None:
        super().__init__(f"notice cannot go from {current.value} to {target.value}")
        self.current, self.target = current, target


def can_transition(current: NoticeStatus | str, target: NoticeStatus | str) -> bool:
    return NoticeStatus(target) in ALLOWED[NoticeStatus(current)]


def transition(current: NoticeStatus | str, target: NoticeStatus | str) -> NoticeStatus:
    """Return the target status, or raise IllegalTransitionError."""
    current, target = NoticeStatus(current), NoticeStatus(target)
    if target not in ALLOWED[current]:
        raise IllegalTransitionError(current, target)
    return target


@dataclass(frozen=True, slots=True)
class NoticeProgress:
    """What the store keeps about a notice's delivery; every change goes through the functions below."""

    status: NoticeStatus = NoticeStatus.CREATED
    attempts: int = 0
    first_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None
    reason: str = ""
    provider_id: str | None = None


def start_attempt(progress: NoticeProgress, now: datetime) -> NoticeProgress:
    """created / temporary_failure / technical_failure (manual retry) → sending."""
    return replace(
        progress,
        status=transition(progress.status, S.SENDING),
        attempts=progress.attempts + 1,
        first_attempt_at=progress.first_attempt_at or now,
        next_attempt_at=None,
    )


def record_result(
    progress: NoticeProgress, result: DeliveryResult, now: datetime, policy: RetryPolicy | None = None
) -> NoticeProgress:
    """sending → the adapter's verdict; a temporary failure past the window becomes technical."""
    if result.status is not DeliveryStatus.TEMPORARY_FAILURE:
        status = NoticeStatus(result.status.value)
        return _settle(progress, status, result.reason, None, result.provider_id)
    first = progress.first_attempt_at or now
    retry_at = next_retry_at(progress.attempts, first, now, policy)
    if retry_at is None:
        return _settle(progress, S.TECHNICAL_FAILURE, f"retry window over: {result.reason}", None, None)
    return _settle(progress, S.TEMPORARY_FAILURE, result.reason, retry_at, None)


def _settle(
    progress: NoticeProgress,
    status: NoticeStatus,
    reason: str,
    retry_at: datetime | None,
    provider_id: str | None,
) -> NoticeProgress:
    return replace(
        progress,
        status=transition(progress.status, status),
        reason=reason,
        next_attempt_at=retry_at,
        provider_id=provider_id,
    )


def expire(progress: NoticeProgress, reason: str = "stale") -> NoticeProgress:
    """created / temporary_failure → expired (the dossier moved on, see is_stale)."""
    status = transition(progress.status, S.EXPIRED)
    return replace(progress, status=status, reason=reason, next_attempt_at=None)


def interrupted(progress: NoticeProgress, now: datetime, policy: RetryPolicy | None = None) -> NoticeProgress:
    """A notice found in `sending` after a crash: record a temporary failure so it is retried
    (the idempotency key and Message-ID keep the retry from reaching the citizen twice)."""
    result = DeliveryResult(DeliveryStatus.TEMPORARY_FAILURE, "interrupted")
    return record_result(progress, result, now, policy)


def manual_retry(progress: NoticeProgress, now: datetime) -> NoticeProgress:
    """An operator's retry (POST /notices/{id}/retry): a fresh window, then sending."""
    fresh = replace(progress, attempts=0, first_attempt_at=None)
    return start_attempt(fresh, now)
