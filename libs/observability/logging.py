"""JSON log lines with service, trace id and dossier code; personal data masked before output."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace

_LOCAL = r"[A-Za-z0-9._%+!#$&'*/=?^`{|}~-]"
# Every repetition is bounded (RFC 5321: a local part of 64 at most, labels of 63, and we allow 10 of them):
# with unbounded `+` and `*` a long run of letters or digits made each start position scan to the end, and
# masking took quadratic time (a 32 KB string: seconds) on any log line an attacker can fill.
_LABEL = r"[A-Za-z0-9-]{1,63}"
_TLD = r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
_EMAIL = re.compile(rf"({_LOCAL}{{1,64}})(@{_LABEL}(?:\.{_LABEL}){{0,10}}\.{_TLD})")
# 12-digit personal IDs (CCCD): keep the last 4 digits.
_PERSONAL_ID = re.compile(r"(?<!\d)\d{8}(\d{4})(?!\d)")
# Vietnamese phones: +84 / 84 / 0, then a 9-10 digit national number (mobile / landline), single spaces,
# dots or dashes allowed between digits (0912 345 678, +84-912-345-678); keep the last 3 digits.
_PHONE = re.compile(r"(?<![\d.])(?:\+84[ .\-]?|84|0)[1-9](?:[ .\-]?\d){8,9}(?!\d)")


def _mask_email(match: re.Match[str]) -> str:
    local = match.group(1)
    return (local[0] if len(local) > 1 else "") + "***" + match.group(2)


def _mask_phone(match: re.Match[str]) -> str:
    return "*******" + re.sub(r"\D", "", match.group())[-3:]


def mask_pii(text: str) -> str:
    """Mask e-mail addresses, personal IDs and phone numbers anywhere in `text`."""
    text = _EMAIL.sub(_mask_email, text)
    text = _PERSONAL_ID.sub(r"********\1", text)
    return _PHONE.sub(_mask_phone, text)


# Fields we write ourselves and that are never personal: hex ids would otherwise look like digit runs.
_NOT_PII = frozenset({"trace_id", "span_id", "timestamp", "level", "service", "logger"})


def mask_value(value: Any) -> Any:
    """`value` with every string inside it masked (mappings, lists and tuples walked; keys kept)."""
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return value


def _mask(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if key not in _NOT_PII:
            event[key] = mask_value(value)
    return event


def _trace_ids(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event["trace_id"] = format(ctx.trace_id, "032x")
        event["span_id"] = format(ctx.span_id, "016x")
    return event


def setup_logging(service: str, level: str = "INFO") -> None:
    """Route stdlib and structlog records through one JSON renderer on stderr.

    Each line: timestamp, level, logger, event, service, trace_id/span_id (when a span is current) and
    whatever is bound with structlog.contextvars (the consumer, relay and HTTP bind `dossier`)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _trace_ids,
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            lambda _l, _n, e: {**e, "service": service},
            _mask,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings and uncaught exceptions become JSON lines too, not raw text
    sys.excepthook = _log_uncaught


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
    logging.getLogger("uncaught").critical("uncaught exception", exc_info=(kind, exc, tb))
