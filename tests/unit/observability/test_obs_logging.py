"""setup_logging: one JSON line per record, with service, trace ids and dossier, personal data masked."""

from __future__ import annotations

import io
import json
import logging
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from libs.observability import log_context, setup_logging

TRACE_ID = 0x12345678901234567890123456789012  # all digits: must not be taken for a phone or an ID
SPAN_ID = 0x1234567890123456


@pytest.fixture
def lines() -> Iterator[Any]:
    root = logging.getLogger()
    saved, hook = (root.handlers[:], root.level), sys.excepthook
    setup_logging("processing", "INFO")
    out = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out)

    def read() -> list[dict[str, Any]]:
        text, _ = out.getvalue(), out.truncate(0)
        out.seek(0)
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    try:
        yield read
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        logging.captureWarnings(False)
        sys.excepthook = hook
        structlog.reset_defaults()


def test_stdlib_record_is_one_masked_json_line(lines: Any) -> None:
    logging.getLogger("services.x").info("sms to %s for %s", "0912345678", "lan@example.vn")
    [line] = lines()
    assert line["event"] == "sms to *******678 for l***@example.vn"
    assert line["service"] == "processing" and line["level"] == "info" and line["logger"] == "services.x"
    assert "timestamp" in line and "trace_id" not in line


def test_structlog_fields_are_masked_deeply(lines: Any) -> None:
    structlog.get_logger("libs.y").warning("applicant", applicant={"personal_id": "019190001234"}, n=3)
    [line] = lines()
    assert line["applicant"] == {"personal_id": "********1234"} and line["n"] == 3


def test_trace_and_dossier_are_on_the_line(lines: Any) -> None:
    ctx = SpanContext(TRACE_ID, SPAN_ID, is_remote=False, trace_flags=TraceFlags(1))
    with trace.use_span(NonRecordingSpan(ctx)), log_context(dossier="000.00.12.H55-260105-0001", event_id=None):
        logging.getLogger("libs.messaging.consumer").info("event applied")
    logging.getLogger("libs.messaging.consumer").info("after")
    first, after = lines()
    assert first["trace_id"] == format(TRACE_ID, "032x") and first["span_id"] == format(SPAN_ID, "016x")
    assert first["dossier"] == "000.00.12.H55-260105-0001" and "event_id" not in first
    assert "dossier" not in after and "trace_id" not in after


def test_exceptions_are_rendered_and_masked(lines: Any) -> None:
    try:
        raise ValueError("bad phone 0912345678")
    except ValueError:
        logging.getLogger("z").exception("failed")
    [line] = lines()
    assert "ValueError: bad phone *******678" in line["exception"]
    assert "0912345678" not in json.dumps(line)


def test_warnings_become_json_lines(lines: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("old api", DeprecationWarning, stacklevel=1)
    [line] = lines()
    assert "old api" in line["event"] and line["logger"] == "py.warnings"


def test_uncaught_exceptions_are_json_lines(lines: Any) -> None:
    try:
        raise RuntimeError("boom for lan@example.vn")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    [line] = [x for x in lines() if x["logger"] == "uncaught"]
    assert line["level"] == "critical" and "RuntimeError: boom for l***@example.vn" in line["exception"]
