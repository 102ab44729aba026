from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.domain import (
    STALE_WHEN,
    DossierState,
    NoticeKind,
    RetryPolicy,
    is_stale,
    message_id,
    next_retry_at,
    notice_key,
    retry_delay,
)

T0 = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 30), (2, 60), (3, 120), (4, 240), (5, 300), (40, 300)])
def test_backoff_doubles_and_is_capped(attempts: int, seconds: int) -> None:
    assert retry_delay(attempts, RetryPolicy()) == timedelta(seconds=seconds)


def test_next_retry_inside_window_and_none_after() -> None:
    assert next_retry_at(1, T0, T0) == T0 + timedelta(seconds=30)
    almost = T0 + timedelta(hours=4) - timedelta(seconds=1)
    assert next_retry_at(50, T0, almost) == almost + timedelta(minutes=5)
    assert next_retry_at(50, T0, T0 + timedelta(hours=4)) is None


def test_window_is_configurable() -> None:
    policy = RetryPolicy(initial_delay_seconds=1, max_delay_seconds=2, window_seconds=10)
    assert next_retry_at(3, T0, T0 + timedelta(seconds=9), policy) == T0 + timedelta(seconds=11)
    assert next_retry_at(3, T0, T0 + timedelta(seconds=10), policy) is None


@pytest.mark.parametrize(
    ("kind", "state", "stale"),
    [
        ("supplement_requested", "supplement_requested", False),
        ("supplement_requested", "processing", True),
        ("supplement_requested", "result_ready", True),
        ("supplement_requested", "withdrawn", True),
        ("extended", "processing", False),
        ("extended", "result_ready", True),
        ("transferred", "processing", False),
        ("transferred", "result_delivered", True),
        ("received", "processing", False),
        ("received", "withdrawn", True),
        ("result_ready", "result_ready", False),
        ("result_ready", "result_delivered", True),
        ("rejected", "rejected", False),
        ("stopped", "stopped", False),
        ("refused", "refused", False),
        ("supplement_requested", "some_future_state", False),  # unknown → send
    ],
)
def test_is_stale(kind: str, state: str, stale: bool) -> None:
    assert is_stale(kind, state) is stale


def test_final_notices_are_never_stale() -> None:
    for kind in (NoticeKind.REFUSED, NoticeKind.RESULT_POSTED, NoticeKind.STOPPED, NoticeKind.REJECTED):
        assert not any(is_stale(kind, s) for s in DossierState)
    assert set(STALE_WHEN) == set(NoticeKind)


def test_notice_key_and_message_id_are_deterministic() -> None:
    key = notice_key("d-42", "9f1c", "sms")
    assert key == "d-42:9f1c:sms"
    assert notice_key("d-42", "9f1c", "email") != key
    mid = message_id(notice_key("d-42", "9f1c", "email"))
    assert mid == "<b2661aa44cf22c6dbc0c1e26b05c6dd5@onestop.local>"  # pinned across releases
    assert mid.startswith("<") and mid.endswith("@onestop.local>")
    assert message_id("d-42:9f1c:email", "ubnd.example.vn").endswith("@ubnd.example.vn>")
    assert message_id("d-42:9f1d:email") != mid
    with pytest.raises(ValueError):
        notice_key("d-42", "9f1c", "zalo")
