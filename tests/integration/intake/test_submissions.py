"""Online submission (docs/domain.md §5.2, issue 17 §2) through intake's real HTTP app, on PostgreSQL and on
SQLite (the embedded default), with the folder store and a clock the test sets: filing, the files, the citizen's
status, the desk's queue, acceptance (received and appointed at the acceptance) and refusal, read back from the
outbox rows the relay would publish."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI
from sqlalchemy import Connection, MetaData, select

from libs.auth import Officer, issue_token
from libs.contracts.intake import DossierReceived, DossierRefused, IntakeEvent
from libs.settings import CommonSettings
from services.intake.domain.receipt import appointment, local_day
from services.intake.ratelimit import TokenBuckets
from services.intake.store.tables import DOCUMENTS, OUTBOX, SUBMISSIONS
from tests.conftest import NewDatabase
from tests.integration.intake.apps import dispose, intake_app_with

pytestmark = pytest.mark.infra
VN = ZoneInfo("Asia/Ho_Chi_Minh")
WARD = "000.00.21.H55"
OTHER_WARD = "000.00.22.H55"
ONLINE = "1.004873"  # Cấp Giấy xác nhận tình trạng hôn nhân: full online, three papers on its checklist
OFFLINE = "1.012812"  # Hòa giải tranh chấp đất đai: online level none
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
SUBMITTED = datetime(2026, 12, 7, 9, 0, tzinfo=VN)  # a Monday
ACCEPTED = datetime(2026, 12, 10, 14, 30, tzinfo=VN)  # the Thursday after
DESK_OFFICER = Officer("can-bo-1", "Cán bộ", frozenset({"desk_officer"}), WARD)


class StoppedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@dataclasses.dataclass
class Intake:
    app: FastAPI
    client: httpx.AsyncClient
    clock: StoppedClock

    def officer(self, agency: str = WARD, roles: tuple[str, ...] = ("desk_officer",), sub: str = "can-bo-1"
                ) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(sub, list(roles), agency, CommonSettings().jwt_secret)}"}

    async def submit(self, key: str | None = None, procedure: str = ONLINE, **extra: Any) -> httpx.Response:
        self.clock.at = SUBMITTED
        headers = {"Idempotency-Key": key or uuid.uuid4().hex, **extra.pop("headers", {})}
        body = {"receiving_agency": WARD, "procedure_code": procedure, "online_payment": True,
                "applicant": {"full_name": "Trần Văn Bình", "personal_id": "019190005678", "phone": "0912345678"},
                "documents": [{"name": "Tờ khai"}], **extra}
        return await self.client.post("/api/v1/public/submissions", json=body, headers=headers)

    async def upload(self, sub: dict[str, Any], content: bytes = PDF, token: str | None = None) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/public/submissions/{sub['id']}/documents", params={"item": 1}, content=content,
            headers={"X-Submission-Token": token or sub["upload_token"], "Idempotency-Key": uuid.uuid4().hex})

    async def decide(self, sub_id: str, decision: str = "acceptance", **kwargs: Any) -> httpx.Response:
        self.clock.at = ACCEPTED
        return await self.client.post(f"/api/v1/submissions/{sub_id}/{decision}", headers=self.officer(), **kwargs)

    async def events(self, dossier_id: str, event: type[IntakeEvent]) -> list[Any]:
        async with self.app.state.desk.sessions() as session:
            rows = (await session.execute(select(OUTBOX.c.payload).where(
                OUTBOX.c.key == dossier_id, OUTBOX.c.event_type == event.ce_type))).all()
        return [event.model_validate_json(row.payload) for row in rows]


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
async def intake(request: pytest.FixtureRequest, new_database: NewDatabase, kafka_bootstrap: str,
                 tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Intake]:
    run_dir = tmp_path_factory.mktemp(f"intake-submissions-{request.param}")
    url = (f"sqlite+aiosqlite:///{run_dir / 'intake.db'}" if request.param == "sqlite"
           else await new_database("intake_submissions"))
    app = await intake_app_with({
        "ONESTOP_INTAKE_DATABASE_URL": url, "ONESTOP_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "ONESTOP_RUN_DIR": str(run_dir), "ONESTOP_CLOCK": "system", "ONESTOP_STORAGE_BACKEND": "folder",
        "ONESTOP_STORAGE_FOLDER": str(run_dir / "documents"), "ONESTOP_STORAGE_SPOOL_DIR": str(run_dir / "spool"),
        "ONESTOP_INTAKE_SUBMISSION_BURST": "1000",  # the limit has its own test
    })
    clock = StoppedClock(SUBMITTED)
    for use_case in (app.state.desk, app.state.documents, app.state.submissions):
        use_case.clock = clock
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        yield Intake(app, client, clock)
    await dispose(app)


async def test_submit_upload_accept_gives_the_dossier_the_submission_id_and_an_appointment_from_acceptance(
        intake: Intake) -> None:
    r = await intake.submit()
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["state"] == "awaiting_check" and sub["code"] is None and len(sub["upload_token"]) == 64
    up = await intake.upload(sub)
    assert up.status_code == 201, up.text
    assert up.json()["digitisation"] == 1 and up.json()["kind"] == "paper"
    queue = (await intake.client.get("/api/v1/submissions", headers=intake.officer())).json()
    assert sub["id"] in [s["id"] for s in queue] and all(s["upload_token"] is None for s in queue)
    seen = (await intake.client.get(f"/api/v1/submissions/{sub['id']}", headers=intake.officer())).json()
    assert [d["id"] for d in seen["documents"]] == [up.json()["id"]]
    # What the desk checks before deciding: who filed it and what they declared.
    assert (seen["applicant"]["full_name"], seen["applicant"]["personal_id"]) == ("Trần Văn Bình", "019190005678")
    assert seen["declared"] == [{"name": "Tờ khai", "copies": 1}] and seen["submitter"] == "citizen"
    content = await intake.client.get(seen["documents"][0]["content_url"], headers=intake.officer())
    assert content.status_code == 200 and content.content == PDF

    accepted = await intake.decide(sub["id"])
    assert accepted.status_code == 201, accepted.text
    dossier = accepted.json()
    desk = intake.app.state.desk
    version = desk.catalogue.procedure_version(ONLINE, local_day(ACCEPTED))
    assert dossier["id"] == sub["id"] and dossier["channel"] == "online" and dossier["state"] == "received"
    assert datetime.fromisoformat(dossier["received_at"]) == ACCEPTED
    assert datetime.fromisoformat(dossier["appointment_at"]) == appointment(version, ACCEPTED, desk.calendar)
    assert appointment(version, ACCEPTED, desk.calendar) != appointment(version, SUBMITTED, desk.calendar)
    [event] = await intake.events(sub["id"], DossierReceived)
    assert event.channel == "online" and event.submitted_at == SUBMITTED and event.online_payment is True
    assert [(str(m.document_id), m.kind, m.digitisation) for m in event.manifest] == [
        (up.json()["id"], "paper", 1)]
    assert event.documents.total == event.documents.digitised == 1  # born digital: exempt from scanning (§4.4)
    files = (await intake.client.get(f"/api/v1/dossiers/{dossier['code']}/documents", headers=intake.officer()))
    assert [d["id"] for d in files.json()] == [up.json()["id"]]  # nothing moved
    status = await intake.client.get(f"/api/v1/public/submissions/{sub['id']}", params={"last4": "5678"})
    assert status.json()["state"] == "accepted" and status.json()["code"] == dossier["code"]
    assert status.json()["appointment_at"] is not None and "personal_id" not in status.text
    assert (await intake.upload(sub)).status_code == 409  # the desk decided
    assert (await intake.decide(sub["id"], "refusal", json={"reason": "thiếu giấy"})).status_code == 409


async def test_a_replay_is_one_submission_and_two_officers_make_one_dossier(intake: Intake) -> None:
    key = uuid.uuid4().hex
    first, again = await intake.submit(key), await intake.submit(key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again.json()["upload_token"] == first.json()["upload_token"]
    assert (await intake.submit(key, documents=[])).status_code == 422  # the key names another body
    both = await asyncio.gather(intake.decide(first.json()["id"]), intake.decide(first.json()["id"]))
    assert sorted(r.status_code for r in both) == [200, 201]
    assert both[0].json()["code"] == both[1].json()["code"]
    assert len(await intake.events(first.json()["id"], DossierReceived)) == 1


async def test_refusal_emits_dossier_refused(intake: Intake) -> None:
    sub = (await intake.submit()).json()
    refused = await intake.decide(sub["id"], "refusal", json={"reason": "Sai thẩm quyền"})
    assert refused.status_code == 201 and refused.json()["state"] == "refused"
    again = await intake.decide(sub["id"], "refusal", json={"reason": "Sai thẩm quyền"})
    assert again.status_code == 200 and again.json()["code"] == refused.json()["code"]
    [event] = await intake.events(sub["id"], DossierRefused)
    assert event.channel == "online" and event.reason == "Sai thẩm quyền"
    assert (await intake.decide(sub["id"])).status_code == 409
    status = await intake.client.get(f"/api/v1/public/submissions/{sub['id']}", params={"last4": "5678"})
    assert status.json()["refusal_reason"] == "Sai thẩm quyền"


async def test_the_refusals_of_a_submission(intake: Intake) -> None:
    offline = await intake.submit(procedure=OFFLINE)
    assert offline.status_code == 422 and "not offered online" in offline.text
    sub = (await intake.submit()).json()
    assert (await intake.upload(sub, token="0" * 64)).status_code == 404
    assert (await intake.upload({**sub, "id": str(uuid.uuid4())})).status_code == 404
    assert (await intake.upload(sub, content=b"MZ\x90\x00" + bytes(64))).status_code == 415
    wrong = await intake.client.get(f"/api/v1/public/submissions/{sub['id']}", params={"last4": "0000"})
    assert wrong.status_code == 404
    other = await intake.client.get(f"/api/v1/submissions/{sub['id']}", headers=intake.officer(OTHER_WARD))
    assert other.status_code == 404
    intake.clock.at = ACCEPTED
    other_accepts = await intake.client.post(f"/api/v1/submissions/{sub['id']}/acceptance",
                                             headers=intake.officer(OTHER_WARD))
    assert other_accepts.status_code == 404


async def test_the_portal_files_with_its_token_and_others_may_not(intake: Intake) -> None:
    portal = intake.officer("000.00.00.H55", ("portal",), sub="dvcqg")
    r = await intake.submit(headers=portal)
    assert r.status_code == 201, r.text
    view = await intake.app.state.submissions.one(uuid.UUID(r.json()["id"]), DESK_OFFICER)
    assert view.row.submitter == "portal:dvcqg"
    assert (await intake.submit(headers=intake.officer())).status_code == 403  # a desk officer is no portal


async def test_anonymous_filing_is_limited_per_client_and_the_portal_is_not(
        intake: Intake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake.app.state, "submission_limit", TokenBuckets(2, 1 / 3600))
    assert [(await intake.submit()).status_code for _ in range(3)] == [201, 201, 429]
    portal = intake.officer("000.00.00.H55", ("portal",), sub="dvcqg")
    assert (await intake.submit(headers=portal)).status_code == 201


async def test_the_desk_files_no_online_dossier_itself(intake: Intake) -> None:
    body = {"procedure_code": ONLINE, "channel": "online",
            "applicant": {"full_name": "Trần Văn Bình", "personal_id": "019190005678"}}
    for path in ("/api/v1/dossiers", "/api/v1/dossiers/refusals"):
        r = await intake.client.post(path, json={**body, **({"reason": "x" * 5} if "refusals" in path else {})},
                                     headers=intake.officer())
        assert r.status_code == 422 and "/api/v1/public/submissions" in r.text


async def test_the_migration_makes_the_submissions_table_and_documents_kind_as_tables_py_says(intake: Intake) -> None:
    ours = MetaData()
    for table in (SUBMISSIONS, DOCUMENTS):
        table.to_metadata(ours)

    def differences(conn: Connection) -> list[Any]:
        def ours_only(name: str | None, kind: str, _parents: Any) -> bool:  # intake's other tables: not here
            return kind != "table" or name in ours.tables

        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": ours_only})
        return list(compare_metadata(context, ours))

    async with intake.app.state.desk.engine.connect() as conn:
        assert await conn.run_sync(differences) == []
