"""A database that went away answers 503 with a reason; other database errors stay server errors."""

import asyncio
import json

import pytest
from fastapi.exceptions import RequestValidationError
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from libs.runtime.admission import AdmissionMetrics
from libs.runtime.http import _database_unavailable, _invalid_request, _no_connection


def test_dropped_database_connection_is_503_with_retry_after() -> None:
    exc = OperationalError("SELECT 1", {}, ConnectionResetError("server closed the connection"))
    response = asyncio.run(_database_unavailable(None, exc))  # type: ignore[arg-type]
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert json.loads(bytes(response.body))["detail"] == "database unavailable, please retry"


def test_constraint_violation_is_not_dressed_up_as_unavailable() -> None:
    exc = IntegrityError("INSERT", {}, Exception("duplicate key"))
    with pytest.raises(IntegrityError):
        asyncio.run(_database_unavailable(None, exc))  # type: ignore[arg-type]


def test_no_free_database_connection_within_the_wait_is_503_busy_and_counted() -> None:
    registry = CollectorRegistry()
    metrics = AdmissionMetrics("intake", registry)
    response = asyncio.run(_no_connection(metrics)(None, PoolTimeout("QueuePool limit reached")))  # type: ignore[arg-type]
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert "busy" in json.loads(bytes(response.body))["detail"]
    assert registry.get_sample_value("onestop_http_shed_total", {"service": "intake", "reason": "db_pool"}) == 1


def test_a_422_names_the_field_and_the_rule_never_the_value() -> None:
    secret = "019190001234" * 1000
    exc = RequestValidationError([{"loc": ("body", "applicant", "personal_id"), "type": "string_too_long",
                                   "msg": "String should have at most 12 characters", "input": secret,
                                   "ctx": {"max_length": 12}}])
    response = asyncio.run(_invalid_request(None, exc))  # type: ignore[arg-type]
    assert response.status_code == 422
    body = bytes(response.body).decode()
    assert "019190001234" not in body and len(body) < 200
    assert json.loads(body)["detail"] == [{"loc": ["body", "applicant", "personal_id"], "type": "string_too_long",
                                           "msg": "String should have at most 12 characters"}]
