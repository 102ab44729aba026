"""Server spans keep no query string: the citizens' look-up puts a credential there (issue 15 §3)."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider

from libs.runtime.http import _without_query

URL = "http://127.0.0.1:8001/api/v1/public/lookup?code=000.00.12.H55-260316-0001&id_last4=1234"


def test_the_look_up_s_digits_never_stay_on_a_span() -> None:
    span = TracerProvider().get_tracer("test").start_span("GET /api/v1/public/lookup", attributes={
        "http.url": URL, "http.target": "/api/v1/public/lookup?code=x&id_last4=1234", "url.query": "id_last4=1234",
        "http.method": "GET",
    })
    _without_query(span, {})
    span.end()
    attributes = dict(span.attributes or {})
    assert attributes["http.url"] == "http://127.0.0.1:8001/api/v1/public/lookup"
    assert attributes["http.target"] == "/api/v1/public/lookup"
    assert attributes["url.query"] == "" and attributes["http.method"] == "GET"
    assert not any("1234" in str(v) for v in attributes.values())


def test_a_span_that_is_not_recorded_is_left_alone() -> None:
    _without_query(None, {})  # the instrumentation may hand None; nothing to do, nothing raised
    span = TracerProvider().get_tracer("test").start_span("x", attributes={"http.url": URL})
    span.end()  # ended: no longer recording, attributes frozen
    _without_query(span, {})
    assert dict(span.attributes or {})["http.url"] == URL
