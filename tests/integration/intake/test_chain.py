"""The dossier's tamper-evident record (issue 17 §4) through intake's real HTTP app: a dossier received, followed
through the workflow (the batch handler), given a scan and a desk move, is intact, its head printed on the
process-control slip; one history row altered directly in the database is named by the admin route and by
`onestop verify`. Two writers for one dossier at once still leave one valid chain (PostgreSQL's row lock).

PostgreSQL runs the receipt as one statement (the server takes the first entry's hash); SQLite, the embedded
default, runs the portable statements. The app's lifespan is not run (no Kafka), as in test_documents.py."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, text
from typer.testing import CliRunner

from libs.auth import issue_token
from libs.contracts.processing import CaseEvent, DueSoon, StepCompleted, SupplementRequested
from libs.settings import CommonSettings
from onestop import cli
from services.intake.desk import Desk
from services.intake.handlers import on_processing_batch
from services.intake.store.tables import HISTORY
from tests.conftest import NewDatabase
from tests.integration.intake.apps import dispose, intake_app_with
from tests.integration.intake.test_desk_on_sqlite import delivered

pytestmark = pytest.mark.infra
WARD = "000.00.21.H55"
OTHER_WARD = "000.00.22.H55"
PROCEDURE = "1.001193"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


@dataclasses.dataclass
class Intake:
    client: httpx.AsyncClient
    desk: Desk
    url: str
    kind: str

    def headers(self, *roles: str, agency: str = WARD, key: str | None = None) -> dict[str, str]:
        token = issue_token("can-bo-1", list(roles or ("desk_officer",)), agency, CommonSettings().jwt_secret)
        return {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}

    async def receive(self) -> dict[str, Any]:
        r = await self.client.post("/api/v1/dossiers", headers=self.headers(), json={
            "procedure_code": PROCEDURE, "channel": "in_person",
            "applicant": {"full_name": "Nguyễn Thị Lan", "personal_id": "019190001234", "phone": "0912345678"}})
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def follow(self, *events: CaseEvent) -> None:
        """One consumer batch through intake's batch handler, in one transaction."""
        async with self.desk.sessions() as session, session.begin():
            await on_processing_batch(session, [delivered(e) for e in events])

    async def upload(self, code: str, item: int, content: bytes) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/dossiers/{code}/documents", params={"item": item, "file_name": "khai-sinh.pdf"},
            content=content, headers={**self.headers(key=uuid.uuid4().hex), "Content-Type": "application/pdf"})

    async def chain(self, code: str, agency: str = WARD) -> httpx.Response:
        return await self.client.get(f"/api/v1/admin/dossiers/{code}/chain", headers=self.headers("admin",
                                                                                                    agency=agency))

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.desk.engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
async def intake(request: pytest.FixtureRequest, new_database: NewDatabase, kafka_bootstrap: str,
                 tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Intake]:
    kind = str(request.param)
    run_dir = tmp_path_factory.mktemp(f"intake-chain-{kind}")
    url = f"sqlite+aiosqlite:///{run_dir / 'intake.db'}" if kind == "sqlite" else await new_database("intake_chain")
    env = {
        "ONESTOP_INTAKE_DATABASE_URL": url, "ONESTOP_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "ONESTOP_RUN_DIR": str(run_dir), "ONESTOP_CLOCK": "system", "ONESTOP_STORAGE_BACKEND": "folder",
        "ONESTOP_STORAGE_FOLDER": str(run_dir / "documents"), "ONESTOP_STORAGE_SPOOL_DIR": str(run_dir / "spool"),
    }
    app = await intake_app_with(env)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        yield Intake(client, app.state.desk, url, kind)
    await dispose(app)


def verify_cli(url: str, code: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, ["verify", code, "--url", url, "--json"])
    return result.exit_code, result.output


async def test_an_altered_row_is_named_by_the_route_and_by_onestop_verify(intake: Intake) -> None:
    dossier = await intake.receive()
    code, dossier_id = dossier["code"], uuid.UUID(dossier["id"])
    now = intake.desk.clock.now()
    await intake.follow(StepCompleted(dossier_id=dossier_id, code=code, actor="can-bo-1", agency=WARD, at=now,
                                      state=4, step_name="Tiếp nhận", handover=True, receiver="chuyen-vien-2",
                                      receiver_agency=WARD))
    await intake.follow(  # a batch of two: chained in memory, one INSERT
        DueSoon(dossier_id=dossier_id, code=code, actor="system", agency=WARD, at=now + timedelta(minutes=1),
                state=4, deadline=now + timedelta(hours=4), hours_left=4.0),
        SupplementRequested(dossier_id=dossier_id, code=code, actor="chuyen-vien-2", agency=WARD,
                            at=now + timedelta(minutes=2), state=5, sub_state="citizen_requested",
                            items=["Giấy chứng sinh"], reason="Bản chụp mờ", policy="pause"))
    uploaded = await intake.upload(code, 1, PDF)
    assert uploaded.status_code == 201, uploaded.text
    r = await intake.client.post(f"/api/v1/dossiers/{code}/supplements", headers=intake.headers(),
                                 json={"documents": [{"name": "Giấy chứng sinh", "digitised": True}], "note": ""})
    assert r.status_code == 200, r.text

    answer = await intake.chain(code)
    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    assert verdict["intact"] and verdict["entries"] == 6 and verdict["before_chain"] == 0, verdict
    assert verdict["first_changed"] is None and len(verdict["head"]) == 64
    # the scan is in the record by its hash, never by its file name
    rows = await intake.sql("SELECT seq, event_type, data FROM dossier_history WHERE dossier_id = :d ORDER BY seq",
                            d=_db_id(intake, dossier_id))
    assert [row[1].split(".")[-3:-1] for row in rows] == [
        ["dossier", "received"], ["case", "step_completed"], ["case", "due_soon"], ["case", "supplement_requested"],
        ["document", "added"], ["dossier", "supplement_submitted"]]
    added = _json(rows[4][2])
    assert added["sha256"] == hashlib.sha256(PDF).hexdigest() and added["checklist_item"] == 1
    assert added["size"] == len(PDF) and "khai-sinh" not in json.dumps(added)
    # the process-control slip prints the head
    slip = await intake.client.get(f"/api/v1/dossiers/{code}/slips/control", headers=intake.headers())
    assert slip.status_code == 200 and verdict["head"] in slip.text
    # who may ask: admins of the dossier's agency (another agency's dossier is 404, as everywhere)
    assert (await intake.chain(code, agency=OTHER_WARD)).status_code == 404
    desk_only = await intake.client.get(f"/api/v1/admin/dossiers/{code}/chain", headers=intake.headers())
    assert desk_only.status_code == 403
    assert (await intake.chain("000.00.21.H55-260101-9999")).status_code == 404
    assert await asyncio.to_thread(verify_cli, intake.url, code) == (0, json.dumps(verdict,
                                                                                    separators=(",", ":")) + "\n")

    # someone edits the third entry (the due-soon warning) behind the service's back
    third = rows[2]
    assert third[0] == 3
    changed = {**_json(third[2]), "hours_left": 40.0}
    await intake.sql("UPDATE dossier_history SET data = :data WHERE dossier_id = :d AND seq = 3",
                     data=json.dumps(changed), d=_db_id(intake, dossier_id))
    broken = (await intake.chain(code)).json()
    assert not broken["intact"] and broken["head"] == verdict["head"]
    assert broken["first_changed"]["seq"] == 3
    assert broken["first_changed"]["event_type"] == "vn.onestop.case.due_soon.v1"
    status, output = await asyncio.to_thread(verify_cli, intake.url, code)
    assert status == 1 and json.loads(output)["first_changed"] == broken["first_changed"]
    human = await asyncio.to_thread(CliRunner().invoke, cli.app, ["verify", code, "--url", intake.url])
    assert human.exit_code == 1 and "first changed: entry 3" in human.output and "due_soon" in human.output
    missing = await asyncio.to_thread(verify_cli, intake.url, "000.00.21.H55-260101-9999")
    assert missing[0] == 2


async def test_entries_from_before_the_chain_are_counted_and_the_chain_starts_after_them(intake: Intake) -> None:
    dossier = await intake.receive()
    code, dossier_id = dossier["code"], uuid.UUID(dossier["id"])
    await intake.sql("UPDATE dossier_history SET seq = NULL, prev_hash = NULL, hash = NULL WHERE dossier_id = :d",
                     d=_db_id(intake, dossier_id))  # as the migration finds the rows written before it
    assert (await intake.chain(code)).json() == {"intact": True, "head": None, "entries": 0, "before_chain": 1,
                                                 "first_changed": None}
    await intake.follow(StepCompleted(dossier_id=dossier_id, code=code, actor="can-bo-1", agency=WARD,
                                      at=intake.desk.clock.now(), state=4))
    verdict = (await intake.chain(code)).json()
    assert verdict["intact"] and verdict["entries"] == 1 and verdict["before_chain"] == 1


async def test_two_writers_at_once_leave_one_valid_chain(intake: Intake) -> None:
    """Workflow batches, uploads and a desk move for one dossier, all at once: each appends under the dossier's
    row lock (PostgreSQL) or SQLite's one writer, so the chain has no fork and no gap."""
    if intake.kind == "sqlite":
        pytest.skip("SQLite's one writer refuses a concurrent transaction instead of waiting on a row lock")
    dossier = await intake.receive()
    code, dossier_id = dossier["code"], uuid.UUID(dossier["id"])
    now = intake.desk.clock.now()

    def step(n: int) -> StepCompleted:
        return StepCompleted(dossier_id=dossier_id, code=code, actor=f"cb-{n}", agency=WARD,
                             at=now + timedelta(seconds=n), state=4, step_name=f"Bước {n}")

    batches = [intake.follow(step(2 * n), step(2 * n + 1)) for n in range(6)]
    uploads = [intake.upload(code, 1 + n % 3, PDF + bytes([n])) for n in range(4)]
    results = await asyncio.gather(*batches, *uploads)
    assert all(r is not None and r.status_code == 201 for r in results[len(batches):])
    verdict = (await intake.chain(code)).json()
    assert verdict["intact"], verdict
    assert verdict["entries"] == 1 + 12 + 4
    seqs = await intake.sql("SELECT seq FROM dossier_history WHERE dossier_id = :d ORDER BY seq",
                            d=_db_id(intake, dossier_id))
    assert [s for (s,) in seqs] == list(range(1, 18))


async def test_the_migration_gives_the_history_table_its_chain_columns_as_tables_py_says(intake: Intake) -> None:
    ours = MetaData()
    HISTORY.to_metadata(ours)

    def differences(conn: Connection) -> list[Any]:
        def ours_only(name: str | None, kind: str, _parents: Any) -> bool:  # intake's other tables: not here
            return kind != "table" or name in ours.tables

        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": ours_only})
        return list(compare_metadata(context, ours))

    async with intake.desk.engine.connect() as conn:
        assert await conn.run_sync(differences) == []


def _db_id(intake: Intake, dossier_id: uuid.UUID) -> Any:
    """The dossier id as a raw SQL parameter: a UUID on PostgreSQL, its hex text on SQLite (how sa.Uuid stores it)."""
    return dossier_id.hex if intake.kind == "sqlite" else dossier_id


def _json(value: Any) -> dict[str, Any]:
    return dict(json.loads(value) if isinstance(value, str) else value)
