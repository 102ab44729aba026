"""The request metrics every service exports are the ones the dashboards and alerts read, in its own registry."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from libs.runtime.http import instrument_requests
from tests.support.promtool import MIDDLEWARE_METRICS


def test_requests_are_counted_and_timed_by_route_template_in_the_service_registry() -> None:
    registry = CollectorRegistry()
    app = FastAPI()

    @app.get("/api/v1/dossiers/{code}")
    def dossier(code: str) -> dict[str, str]:
        return {"code": code}

    instrument_requests(app, registry)
    client = TestClient(app)
    client.get("/api/v1/dossiers/A-1")
    client.get("/api/v1/dossiers/A-2")

    route = {"handler": "/api/v1/dossiers/{code}", "method": "GET"}
    assert registry.get_sample_value("http_requests_total", route | {"status": "2xx"}) == 2
    assert registry.get_sample_value("http_request_duration_seconds_count", route) == 2
    assert registry.get_sample_value("http_request_duration_seconds_bucket", route | {"le": "+Inf"}) == 2
    exported = {m.name for m in registry.collect()}
    assert {"http_requests", "http_request_duration_seconds"} <= exported
    assert {"http_requests_total", "http_request_duration_seconds"} <= MIDDLEWARE_METRICS
    assert not exported & {"http_request_size_bytes", "http_response_size_bytes", "http_request_duration_highr_seconds"}
