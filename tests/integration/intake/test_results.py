"""The signed result file (issue 17 §1) through intake's real HTTP app, on PostgreSQL and SQLite with the folder
store: the competent agency's officer sends the PDF the agency signed (a certificate of the development CA here),
intake checks the signature, keeps the file as a `result` document the receiving ward downloads byte for byte, and
stages `ResultAttached` in the outbox; an unsigned or altered file is refused."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from deploy.local.dev_ca import CaFiles
from libs.auth import issue_token
from libs.contracts.common import DocumentManifest
from libs.contracts.intake import ResultAttached
from libs.contracts.processing import CaseEvent, HandoffAcknowledged, ResultReady, Transferred
from libs.settings import CommonSettings
from services.intake.certification.signing import validate
from services.intake.following import on_case_events
from services.intake.store.tables import OUTBOX
from tests.conftest import NewDatabase
from tests.integration.intake.apps import dispose, intake_app_with
from tests.integration.intake.test_desk_on_sqlite import delivered
from tests.support.signing import signed_pdf
from tests.unit.intake.certification.support import dev_ca, flipped, scanned_original

pytestmark = pytest.mark.infra
WARD = "000.00.21.H55"
OTHER_WARD = "000.00.22.H55"
WARD_PROCEDURE = "1.001193"  # settled by the receiving ward itself
CITY_PROCEDURE = "1.012783"  # settled by the land registry office
LAND_OFFICE = "000.01.05.H55"


@dataclasses.dataclass
class Intake:
    app: FastAPI
    client: httpx.AsyncClient
    ca: CaFiles
    result: bytes  # signed by the competent agency's own certificate

    def headers(self, agency: str = WARD, roles: tuple[str, ...] = ("specialist",), key: str | None = None
                ) -> dict[str, str]:
        token = issue_token("chuyen-vien-1", list(roles), agency, CommonSettings().jwt_secret)
        return {"Authorization": f"Bearer {token}", "Idempotency-Key": key or uuid.uuid4().hex}

    async def receive(self, procedure: str = WARD_PROCEDURE) -> dict[str, Any]:
        r = await self.client.post("/api/v1/dossiers", headers=self.headers(roles=("desk_officer",)), json={
            "procedure_code": procedure, "channel": "in_person",
            "applicant": {"full_name": "Lê Thị Hoa", "personal_id": "019190004321"}})
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def attach(self, code: str, content: bytes | None = None, **headers: Any) -> httpx.Response:
        return await self.client.post(f"/api/v1/dossiers/{code}/result", content=content or self.result,
                                      headers=self.headers(**headers))

    async def follow(self, event: CaseEvent) -> None:
        async with self.app.state.desk.sessions() as session, session.begin():
            await on_case_events(session, [delivered(event)])


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
async def intake(request: pytest.FixtureRequest, new_database: NewDatabase, kafka_bootstrap: str,
                 tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Intake]:
    run_dir = tmp_path_factory.mktemp(f"intake-results-{request.param}")
    url = (f"sqlite+aiosqlite:///{run_dir / 'intake.db'}" if request.param == "sqlite"
           else await new_database("intake_results"))
    app = await intake_app_with({
        "ONESTOP_INTAKE_DATABASE_URL": url, "ONESTOP_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "ONESTOP_RUN_DIR": str(run_dir), "ONESTOP_CLOCK": "system", "ONESTOP_STORAGE_BACKEND": "folder",
        "ONESTOP_STORAGE_FOLDER": str(run_dir / "documents"), "ONESTOP_STORAGE_SPOOL_DIR": str(run_dir / "spool"),
    })
    ca = dev_ca(Path(run_dir) / "ca")
    app.state.results.trust_roots = [ca.root_cert]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        yield Intake(app, client, ca, await asyncio.to_thread(signed_pdf, ca.folder, "Văn phòng Đăng ký đất đai", 1))
    await dispose(app)


async def test_the_competent_agency_attaches_a_signed_result_the_ward_downloads(intake: Intake) -> None:
    dossier = await intake.receive()
    key = uuid.uuid4().hex
    r = await intake.attach(dossier["code"], key=key)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert (doc["kind"], doc["checklist_item"], doc["digitisation"], doc["media_type"]) == (
        "result", 0, 1, "application/pdf")
    listed = await intake.client.get(f"/api/v1/dossiers/{dossier['code']}/documents",
                                     headers=intake.headers(roles=("desk_officer",)))
    assert [(d["id"], d["kind"]) for d in listed.json()] == [(doc["id"], "result")]
    signed = (await intake.client.get(doc["content_url"], headers=intake.headers(roles=("desk_officer",)))).content
    assert signed == intake.result and len(signed) == doc["size"]  # as the agency signed it, byte for byte
    verdict = await asyncio.to_thread(validate, signed, [intake.ca.root_cert])  # pyHanko runs its own loop
    assert verdict.ok, verdict.summary
    async with intake.app.state.desk.sessions() as session:
        [payload] = (await session.execute(select(OUTBOX.c.payload).where(
            OUTBOX.c.key == dossier["id"], OUTBOX.c.event_type == ResultAttached.ce_type))).scalars().all()
    [entry] = ResultAttached.model_validate_json(payload).manifest
    assert (str(entry.document_id), entry.kind, entry.sha256) == (doc["id"], "result", doc["sha256"])
    again = await intake.attach(dossier["code"], key=key)
    assert again.status_code == 200 and again.json()["id"] == doc["id"]
    another = await asyncio.to_thread(signed_pdf, intake.ca.folder, "Văn phòng Đăng ký đất đai", 2)
    other = await intake.attach(dossier["code"], content=another, key=key)
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
    # The citizen's next dossier reuses that result by reference: digitisation state 3, no new bytes.
    later = (await intake.receive())["code"]
    reused = await intake.client.post(f"/api/v1/dossiers/{later}/documents/reused", json={
        "item": 1, "document_id": doc["id"]}, headers=intake.headers(roles=("desk_officer",)))
    assert reused.status_code == 201, reused.text
    assert (reused.json()["digitisation"], reused.json()["sha256"]) == (3, doc["sha256"])


async def test_who_may_attach_and_what(intake: Intake) -> None:
    code = (await intake.receive())["code"]
    assert (await intake.attach(code, agency=OTHER_WARD)).status_code == 404  # a third agency
    assert (await intake.attach(code, roles=("desk_officer",))).status_code == 403
    assert (await intake.attach(code, content=b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + bytes(64))).status_code == 415
    assert (await intake.attach(code, content=b"%PDF-1.7 but nothing readable")).status_code == 422
    unsigned = await intake.attach(code, content=scanned_original(pages=1))
    assert unsigned.status_code == 422 and "no signature" in unsigned.json()["detail"], unsigned.text
    changed = await intake.attach(code, content=flipped(intake.result, len(intake.result) // 3))
    assert changed.status_code == 422, changed.text


async def test_a_city_case_takes_its_result_from_the_department_after_it_acknowledged(intake: Intake) -> None:
    dossier = await intake.receive(CITY_PROCEDURE)
    code, dossier_id, now = dossier["code"], uuid.UUID(dossier["id"]), datetime.now(UTC)
    assert (await intake.attach(code, agency=LAND_OFFICE)).status_code == 404  # not handed over yet
    await intake.follow(Transferred(dossier_id=dossier_id, code=code, actor="can-bo-1", agency=WARD, at=now, state=4,
                                    from_agency=WARD, to_agency=LAND_OFFICE, ack_due_at=now + timedelta(hours=2)))
    await intake.follow(HandoffAcknowledged(
        dossier_id=dossier_id, code=code, actor="chuyen-vien-1", agency=LAND_OFFICE, at=now, state=4,
        kind="transfer", from_agency=WARD, sent_at=now, ack_due_at=now + timedelta(hours=2), ack_late=False))
    assert (await intake.attach(code)).status_code == 404  # the ward is not the competent agency here
    r = await intake.attach(code, agency=LAND_OFFICE)
    assert r.status_code == 201, r.text
    manifest = [DocumentManifest.model_validate({**r.json(), "document_id": r.json()["id"]})]
    await intake.follow(ResultReady(dossier_id=dossier_id, code=code, actor="chuyen-vien-1", agency=LAND_OFFICE,
                                    at=now, state=9, outcome="approved", appointment_at=now + timedelta(days=5),
                                    resolution="early", electronic=True, manifest=manifest))
    seen = await intake.client.get(f"/api/v1/dossiers/{code}", headers=intake.headers(roles=("desk_officer",)))
    assert seen.json()["state"] == "result_ready"
    assert (await intake.attach(code, agency=LAND_OFFICE)).status_code == 409  # already result-ready
