"""The receipt's shortcuts answer exactly like the long ways they replace."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from sqlalchemy.orm import configure_mappers

from libs.auth import Officer, issue_token
from libs.auth.fastapi import require
from libs.settings import CommonSettings
from services.intake.api import BookReader, DeskOfficer
from services.intake.store import receipts, rows
from services.intake.store.tables import DossierRow

WARD = "000.00.12.H55"


def test_new_row_is_the_row_the_constructor_builds() -> None:
    configure_mappers()
    now = datetime.now(UTC)
    values = dict(
        id=uuid.uuid4(), code="X", receiving_agency=WARD, procedure_code="1.001193", procedure_version=1,
        channel="in_person", state="received", applicant_name="Nguyễn Thị Lan", personal_id="019190001234",
        phone=None, email=None, received_at=now, appointment_at=now, idempotency_key="k", request_hash="h",
        procedure={"code": "1.001193"}, documents=[{"name": "Đơn"}], received_by="can-bo-1",
        received_by_name="Trần Thị Hoa", refusal_reason=None, closed_at=None, updated_at=now,
    )
    fast, slow = rows.new_row(**values), DossierRow(**values)
    assert fast.model_dump() == slow.model_dump()
    assert fast.model_fields_set == slow.model_fields_set
    assert inspect(fast).transient
    fast.code = "Y"  # still an ORM object: attribute writes go through the instrumentation
    assert fast.code == "Y" and rows.new_row(**values).documents is values["documents"]


def test_positional_receipt_statement_binds_every_named_parameter_once() -> None:
    names = receipts._PG_RECEIPT_PARAMS
    assert len(names) == len(set(names)) == len(receipts._PG_RECEIPT.compile().params)
    assert ":" not in receipts._PG_RECEIPT_SQL.replace("::", "")
    assert f"${len(names)}" in receipts._PG_RECEIPT_SQL


def _client(dependency: Any) -> TestClient:
    app = FastAPI()
    app.state.runtime = SimpleNamespace(common=CommonSettings())

    async def who(officer: Officer) -> str:
        return officer.sub

    who.__annotations__ = {"officer": dependency, "return": str}  # resolved here, not as a string
    app.get("/who")(who)
    return TestClient(app)


def test_officer_dependency_answers_like_libs_auth_require() -> None:
    secret = CommonSettings().jwt_secret
    desk = issue_token("can-bo-1", ["desk_officer"], WARD, secret)
    viewer = issue_token("xem-1", ["report_viewer"], WARD, secret)
    reference = {
        "desk": Annotated[Officer, Depends(require("desk_officer"))],
        "book": Annotated[Officer, Depends(require("desk_officer", "report_viewer"))],
    }
    for name, ours in (("desk", DeskOfficer), ("book", BookReader)):
        mine, theirs = _client(ours), _client(reference[name])
        for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"},
                        {"Authorization": f"Bearer {desk}"}, {"Authorization": f"Bearer {viewer}"}):
            a, b = mine.get("/who", headers=headers), theirs.get("/who", headers=headers)
            assert (a.status_code, a.json(), a.headers.get("www-authenticate")) == (
                b.status_code, b.json(), b.headers.get("www-authenticate")), (name, headers)
        ours_doc, their_doc = mine.app.openapi(), theirs.app.openapi()  # type: ignore[attr-defined]
        assert ours_doc["components"] == their_doc["components"] and ours_doc["paths"] == their_doc["paths"]
