"""OpenTelemetry tracer provider per service; OTLP export only when configured.

Kafka hops: FastStream's KafkaTelemetryMiddleware puts its producer span in `traceparent`. A batch
subscriber's own span starts a new trace (it only *links* the messages), so the consumer opens one
`<topic> process` span per record, child of that record's producer span: one dossier, one trace."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Link, Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
INSTRUMENTATION = "onestop.messaging"


def make_tracer_provider(service: str, extra_exporter: SpanExporter | None = None) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": f"onestop-{service}"}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if extra_exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(extra_exporter))
    return provider


def messaging_tracer(provider: trace.TracerProvider | None) -> Tracer:
    return trace.get_tracer(INSTRUMENTATION, tracer_provider=provider)


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the current span, None outside a trace. Stored with a row, it lets work done
    later for that row by a loop of its own (the deadline sweep, a notice's delivery) continue the dossier's
    trace instead of publishing an event with none."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def stored_context(traceparent: str | None) -> otel_context.Context:
    """The trace context a stored `traceparent` names (an empty one for None): what the events staged for
    that row are to carry."""
    return _PROPAGATOR.extract({"traceparent": traceparent} if traceparent else {})


@contextmanager
def remote_context(headers: Mapping[str, str]) -> Iterator[None]:
    """Make the W3C context carried in `headers` current for the block (no span of its own)."""
    token = otel_context.attach(_PROPAGATOR.extract(dict(headers)))
    try:
        yield
    finally:
        otel_context.detach(token)


@contextmanager
def consume_span(tracer: Tracer, record: Any, headers: Mapping[str, str]) -> Iterator[Span]:
    """`<topic> process` (CONSUMER) for one record, current for the block (see `start_consume_span`)."""
    with trace.use_span(start_consume_span(tracer, record, headers), end_on_exit=True) as span:
        yield span


def start_consume_span(tracer: Tracer, record: Any, headers: Mapping[str, str]) -> Span:
    """`<topic> process` (CONSUMER) for one record, started, not current: child of its producer span, linked
    to the current (batch) span. Made current while the record's effects are staged, so events staged
    meanwhile carry it on; the caller ends it."""
    batch = trace.get_current_span().get_span_context()
    attributes: dict[str, str | int] = {
        "messaging.system": "kafka",
        "messaging.operation": "process",
        "messaging.destination.name": str(record.topic),
        "messaging.kafka.destination.partition": int(record.partition),
        "messaging.kafka.message.offset": int(record.offset),
        "messaging.message.id": headers.get("ce_id", ""),
        "cloudevents.event_type": headers.get("ce_type", ""),
        "cloudevents.event_subject": headers.get("ce_subject", ""),
    }
    return tracer.start_span(
        f"{record.topic} process",
        context=_PROPAGATOR.extract(dict(headers)),
        kind=SpanKind.CONSUMER,
        links=[Link(batch)] if batch.is_valid else None,
        attributes=attributes,
    )
