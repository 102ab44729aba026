"""What the Prometheus rule and dashboard tests share: the metric names the services expose, and promtool."""

from __future__ import annotations

import shutil

import pytest

# The metric families the services expose (DESIGN.md §8); a name outside this list in a rule or a panel
# is a typo. The FastStream and HTTP families come from the middlewares every service installs.
SERVICE_METRICS = frozenset({
    "up",
    "onestop_dossiers_received_total",
    "onestop_cases_open",
    "onestop_cases_overdue",
    "onestop_cases_due_soon",
    "onestop_on_time_ratio",
    "onestop_dossiers_resolved_total",
    "onestop_notices_total",
    "onestop_notice_send_seconds",
    "onestop_notice_retry_queue",
    "onestop_outbox_pending",
    "onestop_outbox_published_total",
    "onestop_outbox_publish_failures_total",
    "onestop_event_lag_seconds",
    "onestop_events_applied_total",
    "onestop_events_skipped_total",
    "onestop_dlq_messages_total",
    "onestop_dlq_publish_failures_total",
    "onestop_consumer_lag_messages",
    "onestop_http_shed_total",
    "onestop_http_in_flight",
})
MIDDLEWARE_METRICS = frozenset({
    "faststream_received_messages_total",
    "faststream_received_processed_messages_total",
    "faststream_received_processed_messages_duration_seconds",
    "faststream_received_messages_in_process",
    "faststream_received_processed_messages_exceptions_total",
    "faststream_published_messages_total",
    "http_requests_total",
    "http_request_duration_seconds",
})


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail(
            "promtool not found on PATH: install Debian's `prometheus` package "
            "(deploy/local/prometheus/prom.sh install, run by the Makefile before the tests)",
            pytrace=False,
        )
    return path
