"""Per-record consumer spans: child of the record's producer span, linked to the batch span."""

from __future__ import annotations

from types import SimpleNamespace

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, get_current_span

from libs.observability.tracing import consume_span, messaging_tracer, remote_context

PRODUCER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PRODUCER_SPAN = "00f067aa0ba902b7"
HEADERS = {"traceparent": f"00-{PRODUCER_TRACE}-{PRODUCER_SPAN}-01", "ce_id": "e-1", "ce_type": "t",
           "ce_subject": "000.00.12.H55-260105-0001"}
RECORD = SimpleNamespace(topic="onestop.intake.v1", partition=2, offset=41)


def tracer_and_spans() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_record_span_continues_the_producer_trace_and_links_the_batch() -> None:
    provider, exporter = tracer_and_spans()
    tracer = messaging_tracer(provider)
    with tracer.start_as_current_span("batch process") as batch, consume_span(tracer, RECORD, HEADERS) as span:
        assert get_current_span() is span
    record_span, batch_span = exporter.get_finished_spans()
    assert record_span.name == "onestop.intake.v1 process" and record_span.kind is SpanKind.CONSUMER
    assert format(record_span.context.trace_id, "032x") == PRODUCER_TRACE
    assert record_span.parent is not None and format(record_span.parent.span_id, "016x") == PRODUCER_SPAN
    assert [link.context.span_id for link in record_span.links] == [batch.get_span_context().span_id]
    assert record_span.attributes is not None
    assert record_span.attributes["messaging.kafka.message.offset"] == 41
    assert record_span.attributes["messaging.message.id"] == "e-1"
    assert batch_span.name == "batch process"


def test_record_without_traceparent_starts_a_trace() -> None:
    provider, exporter = tracer_and_spans()
    with consume_span(messaging_tracer(provider), RECORD, {"ce_id": "e-2"}):
        pass
    [span] = exporter.get_finished_spans()
    assert span.parent is None and not span.links


def test_remote_context_is_current_only_inside() -> None:
    with remote_context(HEADERS):
        assert format(get_current_span().get_span_context().trace_id, "032x") == PRODUCER_TRACE
    assert not get_current_span().get_span_context().is_valid
