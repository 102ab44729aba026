"""Scans taken at the counter before the receipt (docs/domain.md §4.4, issue 17): a draft keyed by the receipt's
Idempotency-Key, through intake's real HTTP app on PostgreSQL and on SQLite (the embedded default), with the folder
store. Events are read from the outbox rows the relay would publish."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from libs.auth import issue_token
from libs.contracts.common import Digitisation, DocumentKind
from libs.contracts.intake import DossierReceived, DossierRefused, IntakeEvent, SupplementSubmitted
from libs.contracts.processing import SupplementRequested
from libs.settings import CommonSettings
from services.intake.documents import Documents
from services.intake.domain.documents import draft_id
from services.intake.following import on_case_events
from services.intake.store.tables import DOCUMENTS, OUTBOX, DocumentRow, SubmissionRow
from tests.conftest import NewDatabase
from tests.integration.intake.apps import dispose, intake_app_with
from tests.integration.intake.test_desk_on_sqlite import delivered

pytestmark = pytest.mark.infra
WARD = "000.00.21.H55"
OTHER_WARD = "000.00.22.H55"
BIRTH = "1.001193"  # three papers on its checklist
DEATH = "1.000656"  # another checklist: its item 1 is not the birth's
PERSONAL_ID = "019190001234"
APPLICANT = "Nguyễn Thị Lan"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4 + b"\xff\xd9"


@dataclasses.dataclass
class Intake:
    app: FastAPI
    client: httpx.AsyncClient
    documents: Documents

    def headers(self, key: str | None = None, agency: str = WARD) -> dict[str, str]:
        token = issue_token("can-bo-1", ["desk_officer"], agency, CommonSettings().jwt_secret)
        return {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}

    async def draft(self, key: str, item: int, content: bytes, *, procedure: str = BIRTH, agency: str = WARD,
                    **params: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/drafts/{key}/documents", params={"item": item, "procedure_code": procedure, **params},
            content=content, headers=self.headers(uuid.uuid4().hex, agency))

    async def receive(self, key: str, procedure: str = BIRTH, agency: str = WARD, refusal: str = "") -> httpx.Response:
        body: dict[str, Any] = {"procedure_code": procedure, "channel": "in_person",
                                "applicant": {"full_name": APPLICANT, "personal_id": PERSONAL_ID}}
        path = "/api/v1/dossiers/refusals" if refusal else "/api/v1/dossiers"
        return await self.client.post(path, headers=self.headers(key, agency),
                                      json={**body, "reason": refusal} if refusal else body)

    async def events(self, dossier_id: str, event: type[IntakeEvent]) -> list[Any]:
        async with self.documents.sessions() as session:
            rows = (await session.execute(select(OUTBOX.c.payload).where(
                OUTBOX.c.key == dossier_id, OUTBOX.c.event_type == event.ce_type))).all()
        return [event.model_validate_json(row.payload) for row in rows]

    async def announced(self, ids: list[str]) -> list[bool]:
        async with self.documents.sessions() as session:
            rows = (await session.execute(select(DOCUMENTS.c.id, DOCUMENTS.c.announced_at).where(
                DOCUMENTS.c.id.in_([uuid.UUID(i) for i in ids])))).all()
        announced = {str(row.id): row.announced_at is not None for row in rows}
        return [announced[i] for i in ids]

    async def keys(self) -> set[str]:
        return {info.key async for info in self.documents.store.list()}


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
async def intake(request: pytest.FixtureRequest, new_database: NewDatabase, kafka_bootstrap: str,
                 tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Intake]:
    run_dir = tmp_path_factory.mktemp(f"intake-drafts-{request.param}")
    url = (f"sqlite+aiosqlite:///{run_dir / 'intake.db'}" if request.param == "sqlite"
           else await new_database("intake_drafts"))
    app = await intake_app_with({
        "ONESTOP_INTAKE_DATABASE_URL": url, "ONESTOP_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "ONESTOP_RUN_DIR": str(run_dir), "ONESTOP_CLOCK": "system", "ONESTOP_STORAGE_BACKEND": "folder",
        "ONESTOP_STORAGE_FOLDER": str(run_dir / "documents"), "ONESTOP_STORAGE_SPOOL_DIR": str(run_dir / "spool"),
    })
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        yield Intake(app, client, app.state.documents)
    await dispose(app)


async def test_the_scans_taken_before_the_receipt_travel_in_dossier_received(
        intake: Intake, caplog: pytest.LogCaptureFixture) -> None:
    key = f"receipt-{uuid.uuid4().hex}"
    with caplog.at_level(logging.DEBUG):
        first = await intake.draft(key, 1, PDF, file_name="to-khai-khai-sinh.pdf")
        second = await intake.draft(key, 2, JPEG, file_name="chung-sinh.jpg")
        assert first.status_code == 201 and second.status_code == 201, (first.text, second.text)
        listing = await intake.client.get(f"/api/v1/drafts/{key}/documents", headers=intake.headers())
        before = await intake.client.get(listing.json()[0]["content_url"], headers=intake.headers())
        received = await intake.receive(key)
    assert listing.status_code == 200 and [d["id"] for d in listing.json()] == [first.json()["id"], second.json()["id"]]
    assert before.status_code == 200 and before.content == PDF
    after = await intake.client.get(listing.json()[0]["content_url"], headers=intake.headers())
    assert received.status_code == 201, received.text
    dossier = received.json()
    assert uuid.UUID(dossier["id"]) == draft_id(WARD, key)
    [event] = await intake.events(dossier["id"], DossierReceived)
    scans = [first.json(), second.json()]
    assert [(str(m.document_id), m.kind, m.checklist_item, m.digitisation, m.sha256, m.size) for m in event.manifest] \
        == [(s["id"], DocumentKind.PAPER, s["checklist_item"], Digitisation.DIGITISED, s["sha256"], s["size"])
            for s in scans]
    assert [m.media_type for m in event.manifest] == ["application/pdf", "image/jpeg"]
    assert await intake.announced([s["id"] for s in scans]) == [True, True]
    shown = await intake.client.get(f"/api/v1/dossiers/{dossier['code']}/documents", headers=intake.headers())
    assert [d["id"] for d in shown.json()] == [s["id"] for s in scans]
    assert after.status_code == 409  # the draft is the dossier's now: read it there
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("services.", "libs.")))
    assert "khai-sinh" not in logged and "chung-sinh" not in logged and APPLICANT not in logged
    again = await intake.receive(key)  # a replay: the same dossier, no second event
    assert again.status_code == 200 and again.json()["id"] == dossier["id"]
    assert len(await intake.events(dossier["id"], DossierReceived)) == 1


async def test_a_later_supplement_announces_only_its_own_scans(intake: Intake) -> None:
    key = f"receipt-{uuid.uuid4().hex}"
    drafted = (await intake.draft(key, 1, PDF)).json()
    dossier = (await intake.receive(key)).json()
    code, dossier_id = dossier["code"], dossier["id"]
    async with intake.documents.sessions() as session, session.begin():
        await on_case_events(session, [delivered(SupplementRequested(
            dossier_id=uuid.UUID(dossier_id), code=code, actor="chuyen-vien-2", agency=WARD, at=datetime.now(UTC),
            state=5, sub_state="citizen_requested", items=["Giấy chứng sinh"], reason="Bản chụp mờ",
            policy="pause"))])
    later = await intake.client.post(f"/api/v1/dossiers/{code}/documents", params={"item": 2}, content=JPEG,
                                     headers=intake.headers(uuid.uuid4().hex))
    assert later.status_code == 201, later.text
    r = await intake.client.post(f"/api/v1/dossiers/{code}/supplements", headers=intake.headers(),
                                 json={"documents": [{"name": "Giấy chứng sinh", "digitised": True}], "note": ""})
    assert r.status_code == 200, r.text
    [supplement] = await intake.events(dossier_id, SupplementSubmitted)
    assert [str(m.document_id) for m in supplement.manifest] == [later.json()["id"]]
    assert drafted["id"] not in {str(m.document_id) for m in supplement.manifest}


async def test_after_the_receipt_the_draft_is_closed_with_409(intake: Intake) -> None:
    key = f"receipt-{uuid.uuid4().hex}"
    assert (await intake.draft(key, 1, PDF)).status_code == 201
    code = (await intake.receive(key)).json()["code"]
    late = await intake.draft(key, 2, JPEG)
    listing = await intake.client.get(f"/api/v1/drafts/{key}/documents", headers=intake.headers())
    assert late.status_code == 409 and code in late.json()["detail"], late.text
    assert listing.status_code == 409 and code in listing.json()["detail"]


async def test_another_agency_neither_sees_nor_takes_the_draft(intake: Intake) -> None:
    key = f"receipt-{uuid.uuid4().hex}"
    scan = (await intake.draft(key, 1, PDF)).json()
    theirs = await intake.client.get(f"/api/v1/drafts/{key}/documents", headers=intake.headers(agency=OTHER_WARD))
    content = await intake.client.get(f"/api/v1/drafts/{key}/documents/{scan['id']}/content",
                                      headers=intake.headers(agency=OTHER_WARD))
    assert theirs.status_code == 404 and content.status_code == 404
    received = await intake.receive(key, agency=OTHER_WARD)  # the same key at another desk: its own, empty draft
    assert received.status_code == 201, received.text
    [event] = await intake.events(received.json()["id"], DossierReceived)
    assert event.manifest == [] and uuid.UUID(received.json()["id"]) != draft_id(WARD, key)
    assert await intake.announced([scan["id"]]) == [False]


async def test_a_receipt_under_another_procedure_is_refused_and_the_drafts_stay(intake: Intake) -> None:
    key = f"receipt-{uuid.uuid4().hex}"
    scan = (await intake.draft(key, 1, PDF)).json()
    wrong = await intake.receive(key, procedure=DEATH)
    assert wrong.status_code == 422 and "item 1" in wrong.json()["detail"], wrong.text
    assert await intake.announced([scan["id"]]) == [False]
    listing = await intake.client.get(f"/api/v1/drafts/{key}/documents", headers=intake.headers())
    assert [d["id"] for d in listing.json()] == [scan["id"]]
    right = await intake.receive(key)
    assert right.status_code == 201, right.text


async def test_a_refusal_leaves_the_drafts_unannounced_with_the_ward(intake: Intake) -> None:
    key = f"refusal-{uuid.uuid4().hex}"
    scan = (await intake.draft(key, 1, PDF)).json()
    refused = await intake.receive(key, refusal="Thiếu giấy chứng sinh")
    assert refused.status_code == 201, refused.text
    assert len(await intake.events(refused.json()["id"], DossierRefused)) == 1
    assert await intake.announced([scan["id"]]) == [False]
    code = refused.json()["code"]
    ours = await intake.client.get(f"/api/v1/dossiers/{code}/documents", headers=intake.headers())
    theirs = await intake.client.get(f"/api/v1/dossiers/{code}/documents", headers=intake.headers(agency=OTHER_WARD))
    assert [d["id"] for d in ours.json()] == [scan["id"]] and theirs.status_code == 404
    assert (await intake.draft(key, 2, JPEG)).status_code == 409


async def test_a_draft_upload_is_checked_like_a_scan(intake: Intake) -> None:
    key = f"receipt-{uuid.uuid4().hex}"
    assert (await intake.draft(key, 4, PDF)).status_code == 422  # not on the checklist
    assert (await intake.draft(key, 1, PDF, procedure="9.999999")).status_code == 404  # no such procedure
    assert (await intake.draft(key, 1, b"\x7fELF\x02\x01\x01\x00" + bytes(64))).status_code == 415
    upload_key = uuid.uuid4().hex
    sent = [await intake.client.post(f"/api/v1/drafts/{key}/documents", params={"item": 1, "procedure_code": BIRTH},
                                     content=PDF, headers=intake.headers(upload_key)) for _ in range(2)]
    assert [r.status_code for r in sent] == [201, 200] and sent[1].headers["idempotent-replayed"] == "true"
    clerk = {"Authorization": "Bearer " + issue_token("x", ["report_viewer"], WARD, CommonSettings().jwt_secret)}
    assert (await intake.client.get(f"/api/v1/drafts/{key}/documents", headers=clerk)).status_code == 403
    assert (await intake.client.get(f"/api/v1/drafts/never-{key}/documents", headers=intake.headers())).status_code \
        == 404


async def test_the_sweep_drops_a_stale_draft_and_keeps_received_and_submitted_files(intake: Intake) -> None:
    stale_key, kept_key = f"stale-{uuid.uuid4().hex}", f"kept-{uuid.uuid4().hex}"
    stale_bytes = PDF + b"stale" + uuid.uuid4().bytes  # bytes no other scan holds
    stale = (await intake.draft(stale_key, 1, stale_bytes)).json()
    kept = (await intake.draft(kept_key, 1, PDF + b"kept" + uuid.uuid4().bytes)).json()
    assert (await intake.receive(kept_key)).status_code == 201
    submitted = await _pending_submission_file(intake)
    young = await intake.documents.sweep_once()
    assert young.removed == 0
    listing = await intake.client.get(f"/api/v1/drafts/{stale_key}/documents", headers=intake.headers())
    assert listing.status_code == 200
    later = await intake.documents.sweep_once(now=datetime.now(UTC) + timedelta(days=2))  # the clock moved on
    gone = await intake.client.get(f"/api/v1/drafts/{stale_key}/documents", headers=intake.headers())
    assert gone.status_code == 404
    stale_object = f"sha256/{stale['sha256'][:2]}/{stale['sha256']}"
    assert stale_object in later.removed_keys and stale_object not in await intake.keys()
    async with intake.documents.sessions() as session:
        left = set((await session.execute(select(DOCUMENTS.c.id))).scalars().all())
    assert uuid.UUID(kept["id"]) in left and submitted in left and uuid.UUID(stale["id"]) not in left


async def _pending_submission_file(intake: Intake) -> uuid.UUID:
    """A file of an online submission still waiting for the desk (its rows, as the public upload writes them)."""
    now = datetime.now(UTC)
    submission = SubmissionRow(
        id=uuid.uuid4(), receiving_agency=WARD, procedure_code=BIRTH, procedure_version=1, procedure_name="x",
        applicant_name=APPLICANT, personal_id=PERSONAL_ID, state="awaiting_check", submitter="citizen",
        idempotency_key=uuid.uuid4().hex, request_hash="0" * 64, submitted_at=now)
    scan = (await intake.draft(f"copy-{uuid.uuid4().hex}", 1, PDF)).json()  # an object the row may reference
    key = f"sha256/{scan['sha256'][:2]}/{scan['sha256']}"
    row = DocumentRow(id=uuid.uuid4(), dossier_id=submission.id, checklist_item=1, key=key, sha256=scan["sha256"],
                      size=scan["size"], media_type="application/pdf", digitisation=1, uploaded_by="citizen",
                      uploaded_at=now, idempotency_key=uuid.uuid4().hex)
    async with intake.documents.sessions() as session, session.begin():
        session.add(submission)
        session.add(row)
    return row.id
