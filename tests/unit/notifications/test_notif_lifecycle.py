from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.domain import (
    ALLOWED,
    FINAL,
    DeliveryResult,
    DeliveryStatus,
    IllegalTransitionError,
    NoticeProgress,
    NoticeStatus,
    RetryPolicy,
    can_transition,
    delivered,
    expire,
    interrupted,
    manual_retry,
    permanent,
    record_result,
    start_attempt,
    temporary,
    transition,
)

S = NoticeStatus
T0 = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
LEGAL = [
    (S.CREATED, S.SENDING),
    (S.CREATED, S.EXPIRED),
    (S.SENDING, S.DELIVERED),
    (S.SENDING, S.TEMPORARY_FAILURE),
    (S.SENDING, S.PERMANENT_FAILURE),
    (S.SENDING, S.TECHNICAL_FAILURE),
    (S.TEMPORARY_FAILURE, S.SENDING),
    (S.TEMPORARY_FAILURE, S.TECHNICAL_FAILURE),
    (S.TEMPORARY_FAILURE, S.EXPIRED),
    (S.TECHNICAL_FAILURE, S.SENDING),
]


def test_transition_table_is_exactly_the_legal_list() -> None:
    table = {(a, b) for a, targets in ALLOWED.items() for b in targets}
    assert table == set(LEGAL)
    assert {S.DELIVERED, S.PERMANENT_FAILURE, S.EXPIRED} == FINAL


@pytest.mark.parametrize(("current", "target"), [(a, b) for a in S for b in S if (a, b) not in LEGAL])
def test_illegal_transitions_raise(current: NoticeStatus, target: NoticeStatus) -> None:
    assert not can_transition(current, target)
    with pytest.raises(IllegalTransitionError):
        transition(current, target)


def test_happy_path() -> None:
    p = start_attempt(NoticeProgress(), T0)
    assert (p.status, p.attempts, p.first_attempt_at) == (S.SENDING, 1, T0)
    p = record_result(p, delivered("250 ok", "id-1"), T0)
    assert (p.status, p.provider_id, p.next_attempt_at) == (S.DELIVERED, "id-1", None)
    with pytest.raises(IllegalTransitionError):
        start_attempt(p, T0)


def test_temporary_failures_back_off_then_become_technical() -> None:
    policy = RetryPolicy(initial_delay_seconds=30, max_delay_seconds=300, window_seconds=3600)
    p, now, delays = NoticeProgress(), T0, []
    while True:
        p = record_result(start_attempt(p, now), temporary("503"), now, policy)
        if p.status is S.TECHNICAL_FAILURE:
            break
        assert p.status is S.TEMPORARY_FAILURE and p.next_attempt_at is not None
        delays.append((p.next_attempt_at - now).total_seconds())
        now = p.next_attempt_at
    assert delays[:5] == [30, 60, 120, 240, 300] and set(delays[5:]) == {300}
    assert now >= T0 + timedelta(hours=1) and p.first_attempt_at == T0
    assert p.reason.startswith("retry window over") and p.next_attempt_at is None


def test_permanent_failure_is_final() -> None:
    p = record_result(start_attempt(NoticeProgress(), T0), permanent("invalid phone"), T0)
    assert (p.status, p.reason) == (S.PERMANENT_FAILURE, "invalid phone")
    with pytest.raises(IllegalTransitionError):
        expire(p)


def test_expire_from_created_and_from_temporary_failure() -> None:
    assert expire(NoticeProgress()).status is S.EXPIRED
    p = record_result(start_attempt(NoticeProgress(), T0), temporary("timeout"), T0)
    assert expire(p, "dossier moved on").reason == "dossier moved on"
    with pytest.raises(IllegalTransitionError):
        expire(start_attempt(NoticeProgress(), T0))  # in flight: wait for the verdict


def test_interrupted_send_is_retried() -> None:
    p = interrupted(start_attempt(NoticeProgress(), T0), T0 + timedelta(seconds=5))
    assert p.status is S.TEMPORARY_FAILURE and p.reason == "interrupted"
    assert p.next_attempt_at == T0 + timedelta(seconds=35)


def test_manual_retry_opens_a_fresh_window() -> None:
    late = T0 + timedelta(hours=5)
    p = record_result(start_attempt(NoticeProgress(), T0), temporary("x"), late)
    assert p.status is S.TECHNICAL_FAILURE
    p = manual_retry(p, late)
    assert (p.status, p.attempts, p.first_attempt_at) == (S.SENDING, 1, late)
    assert record_result(p, DeliveryResult(DeliveryStatus.TEMPORARY_FAILURE, "y"), late).status is (S.TEMPORARY_FAILURE)
