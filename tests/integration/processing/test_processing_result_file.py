"""The signed result file on real PostgreSQL (issue 17 §1): intake's `dossier.result_attached` reaches the case
through the consumer, the case page shows it, and an electronic approval publishes it in `case.result_ready`;
an electronic approval without it is a 409 that writes nothing, and another agency's attachment is parked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from libs.auth import Officer
from libs.auth.fastapi import current_officer
from libs.contracts.common import Digitisation, DocumentKind, DocumentManifest
from libs.contracts.intake import DossierReceived, ResultAttached
from libs.messaging import ensure_topics
from services.processing import api
from services.processing.actions import Acknowledge, CompleteStep, Transfer
from services.processing.store import CaseRow
from tests.integration.processing.conftest import LAND_OFFICE, WARD, Process, at, received, record_of
from tests.support.kafka import find_records, headers_of

pytestmark = pytest.mark.infra

DESK = Officer("desk1", "Desk One", frozenset({"desk_officer"}), WARD)
HEAD = Officer("head1", "Head One", frozenset({"department_head"}), LAND_OFFICE)
SPEC = Officer("spec1", "Spec One", frozenset({"specialist"}), LAND_OFFICE)


@pytest.fixture
async def http(process: Process) -> AsyncIterator[httpx.AsyncClient]:
    """Processing's case routes on `process`, every request as the land office's head."""
    app = FastAPI()
    app.include_router(api.router(), prefix="/api/v1")
    app.state.cases = process.cases
    app.dependency_overrides[current_officer] = lambda: HEAD
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://processing") as client:
        yield client


def attached(event: DossierReceived, agency: str = LAND_OFFICE) -> ResultAttached:
    document = DocumentManifest(
        document_id=uuid4(), kind=DocumentKind.RESULT, checklist_item=0, item_name="Kết quả giải quyết",
        sha256="cd" * 32, size=52_001, media_type="application/pdf", digitisation=Digitisation.DIGITISED,
        uploaded_at=at(17, 10))
    return ResultAttached(dossier_id=event.dossier_id, code=event.code, agency=agency, actor="spec1", at=at(17, 10),
                          manifest=[document])


async def at_the_decision(p: Process) -> DossierReceived:
    """A land dossier received (through the consumer) and brought to the land office head's signature."""
    event = received(at(16, 9))
    await p.app.consumer.process_batch([record_of(event, 0)])
    p.clock.moment = at(16, 10)
    await p.cases.act(event.code, DESK, Transfer(action="transfer"))
    await p.cases.act(event.code, HEAD, Acknowledge(action="acknowledge"))
    for who in (HEAD, SPEC, HEAD):  # assign, review, head of division: the signing step is active
        await p.cases.act(event.code, who, CompleteStep(action="complete-step"))
    return event


async def outbox_of(p: Process, dossier_id: UUID) -> list[tuple[str, dict[str, Any]]]:
    outbox = p.app.outbox.table
    async with p.app.rt.sessions() as session:
        query = select(outbox.c.event_type, outbox.c.payload).where(outbox.c.key == str(dossier_id))
        return [(t, json.loads(body)) for t, body in (await session.execute(query.order_by(outbox.c.id))).all()]


async def row_of(p: Process, dossier_id: UUID) -> CaseRow:
    async with p.app.rt.sessions() as session:
        row = await session.get(CaseRow, dossier_id)
        assert row is not None
        return row


async def test_the_attached_result_travels_in_result_ready(process: Process, http: httpx.AsyncClient) -> None:
    event = await at_the_decision(process)
    actions = f"/api/v1/cases/{event.code}/actions"
    before = await outbox_of(process, event.dossier_id)

    refused = await http.post(actions, json={"action": "approve", "electronic": True})
    assert refused.status_code == 409, refused.text
    assert f"attach the signed result file first (intake: POST /api/v1/dossiers/{event.code}/result)" in (
        refused.json()["detail"])
    assert await outbox_of(process, event.dossier_id) == before

    attachment = attached(event)
    version = (await row_of(process, event.dossier_id)).version
    await process.app.consumer.process_batch([record_of(attachment, 1)])
    row = await row_of(process, event.dossier_id)
    document = attachment.manifest[0].model_dump(mode="json")
    assert row.version == version + 1 and row.result_file is not None
    assert (row.result_file["document"], row.result_file["agency"]) == (document, LAND_OFFICE)
    assert await outbox_of(process, event.dossier_id) == before  # intake announced it; processing adds nothing

    view = (await http.get(f"/api/v1/cases/{event.code}")).json()
    assert view["result"]["document_id"] == str(document["document_id"]) and view["result"]["sha256"] == "cd" * 32
    assert datetime.fromisoformat(view["result"]["attached_at"]) == at(17, 10)  # when intake attached it
    assert view["result_document"] == str(document["document_id"])

    approved = await http.post(actions, json={"action": "approve", "electronic": True, "note": "Đủ điều kiện"})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["outcome"]) == (9, "approved")
    ready = [body for kind, body in await outbox_of(process, event.dossier_id)
             if kind == "vn.onestop.case.result_ready.v1"]
    assert len(ready) == 1 and ready[0]["electronic"] is True
    assert ready[0]["manifest"] == [document]


async def test_another_agency_s_attachment_is_parked_with_the_reason(process: Process) -> None:
    rt, consumer = process.app.rt, process.app.consumer
    await rt.broker.connect()
    await ensure_topics(rt.common.kafka_bootstrap, [rt.dlq_topic], 1, 1)
    try:
        event = await at_the_decision(process)
        wrong = attached(event, agency=WARD)  # the ward received the dossier; the land office decides it
        record = record_of(wrong, 2)
        await consumer.process_batch([record])
        assert (await row_of(process, event.dossier_id)).result_file is None

        ce_id = dict(record.headers)["ce_id"].decode()
        dead = await find_records(rt.common.kafka_bootstrap, rt.dlq_topic,
                                  lambda r: headers_of(r).get("ce_id") == ce_id)
        assert len(dead) == 1
        assert f"decided by {LAND_OFFICE}, not by {WARD}" in headers_of(dead[0])["dlq_error"]
    finally:
        await rt.broker.stop()
