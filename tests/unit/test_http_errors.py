"""A database that went away answers 503 with a reason; other database errors stay server errors."""

import asyncio
import json

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from libs.runtime.http import _database_unavailable


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
