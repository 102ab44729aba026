"""The scans of a dossier (issue 17 §1) through intake's real HTTP app, on PostgreSQL, against both document
stores: the folder (the embedded default) and S3 (the real S3Proxy of the test run, a fresh bucket per store).

The app is `create_app()` served in-process (httpx's ASGI transport): its routes, body limit with the upload's
allowance, error handlers. Its lifespan is not run (no Kafka): the database is migrated here, and events are read
from the outbox rows the relay would publish as they are."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from starlette.types import Message

from libs.auth import Officer, issue_token
from libs.contracts import read_envelope
from libs.contracts.intake import SupplementSubmitted
from libs.contracts.processing import CaseEvent, HandoffAcknowledged, SupplementRequested, Transferred
from libs.settings import CommonSettings
from libs.storage import ObjectStore, S3ObjectStore, StorageSettings, TooLarge, is_content_key
from services.intake.desk import Desk
from services.intake.documents import Documents, Upload
from services.intake.following import on_case_events
from services.intake.store.tables import OUTBOX, DocumentRow
from tests.conftest import S3_ENDPOINT, NewDatabase
from tests.integration.intake.apps import dispose, intake_app_with
from tests.integration.intake.test_desk_on_sqlite import delivered

pytestmark = pytest.mark.infra
WARD = "000.00.21.H55"
OTHER_WARD = "000.00.22.H55"
DEPARTMENT = "000.00.03.H55"  # Sở Tư pháp, a city department of deploy/config/agencies.yaml
PROCEDURE = "1.001193"  # three papers on its checklist
APPLICANT = "Nguyễn Thị Lan"
PERSONAL_ID = "019190001234"
MB = 1024 * 1024

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 30 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + bytes(range(256)) * 20
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(64) + b"%PDF-1.7 pretending"


@dataclasses.dataclass
class Intake:
    app: FastAPI
    client: httpx.AsyncClient
    documents: Documents
    desk: Desk
    store: ObjectStore
    kind: str

    def headers(self, key: str | None = None, *, agency: str = WARD, roles: tuple[str, ...] = ("desk_officer",),
                sub: str = "can-bo-1") -> dict[str, str]:
        token = issue_token(sub, list(roles), agency, CommonSettings().jwt_secret)
        return {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}

    async def receive(self, personal_id: str = PERSONAL_ID) -> dict[str, Any]:
        r = await self.client.post("/api/v1/dossiers", headers=self.headers(), json={
            "procedure_code": PROCEDURE, "channel": "in_person",
            "applicant": {"full_name": APPLICANT, "personal_id": personal_id, "phone": "0912345678"}})
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def upload(self, code: str, item: int, content: Any, key: str | None = None, **params: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/dossiers/{code}/documents", params={"item": item, **params}, content=content,
            headers={**self.headers(key or uuid.uuid4().hex), "Content-Type": "application/pdf"})

    async def keys(self) -> list[str]:
        return [info.key async for info in self.store.list()]

    async def follow(self, event: CaseEvent) -> None:
        async with self.desk.sessions() as session, session.begin():
            await on_case_events(session, [delivered(event)])


@pytest.fixture(scope="module", params=["folder", "s3", "sqlite+folder"])
async def intake(request: pytest.FixtureRequest, new_database: NewDatabase, kafka_bootstrap: str,
                 tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Intake]:
    """PostgreSQL with each store, and the embedded default of `make up` (SQLite and the folder)."""
    database, _, kind = str(request.param).rpartition("+")
    run_dir = tmp_path_factory.mktemp(f"intake-documents-{kind}")
    url = (f"sqlite+aiosqlite:///{run_dir / 'intake.db'}" if database == "sqlite"
           else await new_database(f"intake_docs_{kind}"))
    env = {
        "ONESTOP_INTAKE_DATABASE_URL": url,
        "ONESTOP_KAFKA_BOOTSTRAP": kafka_bootstrap, "ONESTOP_RUN_DIR": str(run_dir), "ONESTOP_CLOCK": "system",
        "ONESTOP_STORAGE_BACKEND": kind, "ONESTOP_STORAGE_FOLDER": str(run_dir / "documents"),
        "ONESTOP_STORAGE_SPOOL_DIR": str(run_dir / "spool"),
    }
    bucket = f"onestop-intake-{uuid.uuid4().hex[:12]}"
    if kind == "s3":
        request.getfixturevalue("s3_endpoint")
        env |= {"ONESTOP_STORAGE_S3_ENDPOINT": S3_ENDPOINT, "ONESTOP_STORAGE_S3_BUCKET": bucket}
    app = await intake_app_with(env)
    documents: Documents = app.state.documents
    if isinstance(documents.store, S3ObjectStore):
        await documents.store.create_bucket()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        yield Intake(app, client, documents, app.state.desk, documents.store, kind)
    async for info in documents.store.list():  # leave the test server's disk as we found it
        await documents.store.delete(info.key)
    if isinstance(documents.store, S3ObjectStore):
        await documents.store.delete_bucket()
    await dispose(app)


@pytest.fixture
def no_personal_data_logged(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """Every log line of the test; afterwards none may hold a name, a personal ID or a file name."""
    forbidden: list[str] = [APPLICANT, PERSONAL_ID]
    with caplog.at_level(logging.DEBUG):
        yield forbidden
    text = "\n".join(r.getMessage() for r in caplog.records)
    leaked = [word for word in forbidden if word in text]
    assert not leaked, f"personal data or a file name in the logs: {leaked}"


async def test_three_items_download_byte_identical_and_several_pages_per_item(
        intake: Intake, no_personal_data_logged: list[str], caplog: pytest.LogCaptureFixture) -> None:
    dossier = await intake.receive()
    code = dossier["code"]
    no_personal_data_logged.append("giay-khai-sinh")
    sent = [(1, PDF), (1, PDF + b"page 2"), (2, JPEG), (3, PNG)]
    ids = []
    for item, content in sent:
        r = await intake.upload(code, item, content, file_name="giay-khai-sinh.pdf")
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    listing = await intake.client.get(f"/api/v1/dossiers/{code}/documents", headers=intake.headers())
    assert listing.status_code == 200
    manifest = listing.json()
    assert [(d["checklist_item"], d["media_type"], d["digitisation"]) for d in manifest] == [
        (1, "application/pdf", 1), (1, "application/pdf", 1), (2, "image/jpeg", 1), (3, "image/png", 1)]
    assert manifest[2]["pages"] == 1 and manifest[0]["pages"] is None  # PDF pages: not counted yet
    for doc_id, (_, content) in zip(ids, sent, strict=True):
        got = await intake.client.get(f"/api/v1/dossiers/{code}/documents/{doc_id}/content", headers=intake.headers())
        assert got.status_code == 200 and got.content == content
        assert got.headers["x-content-type-options"] == "nosniff"
        assert "giay-khai-sinh" not in got.headers["content-disposition"]
    reads = [r.getMessage() for r in caplog.records if r.getMessage().startswith("document ") and " read by " in
             r.getMessage()]
    assert reads == [f"document {doc_id} of dossier {code} read by can-bo-1 of {WARD}" for doc_id in ids]


async def test_same_bytes_are_stored_once_and_a_repeated_key_replays(intake: Intake) -> None:
    code = (await intake.receive())["code"]
    content = PNG + uuid.uuid4().bytes  # bytes no other test stores
    first = await intake.upload(code, 2, content, key="scan-1")
    again = await intake.upload(code, 2, content, key="scan-1")
    other_key = await intake.upload(code, 3, content, key="scan-2")
    conflict = await intake.upload(code, 2, JPEG, key="scan-1")
    assert first.status_code == 201 and other_key.status_code == 201
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and other_key.json()["id"] != first.json()["id"]
    assert conflict.status_code == 422
    sha = first.json()["sha256"]
    assert other_key.json()["sha256"] == sha
    assert sum(key.endswith(sha) for key in await intake.keys()) == 1
    listing = (await intake.client.get(f"/api/v1/dossiers/{code}/documents", headers=intake.headers())).json()
    assert len(listing) == 2


async def test_a_25_mb_upload_is_refused_before_it_is_stored(intake: Intake) -> None:
    code = (await intake.receive())["code"]
    before = await intake.keys()
    big = b"%PDF-1.7\n" + bytes(25 * MB)

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: refused while it streams in
        for start in range(0, len(big), MB):
            yield big[start:start + MB]

    declared = await intake.upload(code, 1, big)  # Content-Length: refused before a byte is read
    chunked = await intake.upload(code, 1, streamed())
    assert declared.status_code == 413 and chunked.status_code == 413, (declared.text, chunked.text)
    assert await intake.keys() == before
    listing = (await intake.client.get(f"/api/v1/dossiers/{code}/documents", headers=intake.headers())).json()
    assert listing == []
    assert await asyncio.to_thread(_leftovers, intake.store) == []  # no spool file either


async def test_an_interrupted_upload_stores_nothing(intake: Intake) -> None:
    code = (await intake.receive())["code"]
    before = await intake.keys()
    messages: list[Message] = [{"type": "http.request", "body": PDF[:100], "more_body": True},
                               {"type": "http.disconnect"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    path = f"/api/v1/dossiers/{code}/documents"
    headers = [(k.lower().encode(), v.encode()) for k, v in intake.headers("cut").items()] + [(b"host", b"intake")]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"item=1", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("intake", 80)}
    await intake.app(scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 400
    assert await intake.keys() == before
    assert await asyncio.to_thread(_leftovers, intake.store) == []


async def test_an_executable_named_pdf_is_refused_with_415(intake: Intake) -> None:
    code = (await intake.receive())["code"]
    before = await intake.keys()
    r = await intake.upload(code, 1, ELF, file_name="scan.pdf")
    empty = await intake.upload(code, 1, b"")
    assert r.status_code == 415 and empty.status_code == 415
    assert await intake.keys() == before


async def test_a_hostile_file_name_is_data_never_a_path(intake: Intake, no_personal_data_logged: list[str]) -> None:
    code = (await intake.receive())["code"]
    hostile = "../../../../tmp/evil\x00\r\nX-Injected: 1\x1b[31m.pdf"
    no_personal_data_logged.extend(["evil", "X-Injected"])
    r = await intake.upload(code, 1, PDF + b"hostile", file_name=hostile)
    assert r.status_code == 201, r.text
    stored = r.json()
    assert stored["file_name"] == "evilX-Injected 1[31m.pdf"
    assert all(c not in stored["file_name"] for c in "/\\\x00\r\n\x1b")
    got = await intake.client.get(stored["content_url"], headers=intake.headers())
    assert got.status_code == 200 and "evil" not in got.headers["content-disposition"]
    assert all(is_content_key(key) for key in await intake.keys())
    if intake.kind == "folder":
        root: Path = intake.store.root  # type: ignore[attr-defined]
        names = [p.name for p in root.parent.rglob("*")]
        assert not [n for n in names if "evil" in n]


async def test_only_the_receiving_ward_and_agencies_that_acknowledged_read(intake: Intake) -> None:
    dossier = await intake.receive()
    code, dossier_id = dossier["code"], uuid.UUID(dossier["id"])
    doc = (await intake.upload(code, 1, PDF)).json()
    strangers = [intake.headers(agency=OTHER_WARD), intake.headers(agency=DEPARTMENT, roles=("specialist",))]
    for headers in strangers:
        assert (await intake.client.get(f"/api/v1/dossiers/{code}/documents", headers=headers)).status_code == 404
        assert (await intake.client.get(doc["content_url"], headers=headers)).status_code == 404
    other_desk = await intake.upload(code, 1, PDF)  # the desk of the receiving ward only
    assert other_desk.status_code == 201
    foreign = await intake.client.post(f"/api/v1/dossiers/{code}/documents", params={"item": 1}, content=PDF,
                                       headers={**strangers[0], "Idempotency-Key": "x"})
    assert foreign.status_code == 404
    now = datetime.now(UTC)
    await intake.follow(Transferred(
        dossier_id=dossier_id, code=code, actor="can-bo-1", agency=WARD, at=now, state=4, from_agency=WARD,
        to_agency=DEPARTMENT, ack_due_at=now + timedelta(hours=2)))
    assert (await intake.client.get(doc["content_url"], headers=strangers[1])).status_code == 404  # not yet
    await intake.follow(HandoffAcknowledged(
        dossier_id=dossier_id, code=code, actor="chuyen-vien-2", agency=DEPARTMENT, at=now, state=4, kind="transfer",
        from_agency=WARD, sent_at=now, ack_due_at=now + timedelta(hours=2), ack_late=False))
    readable = await intake.client.get(doc["content_url"], headers=strangers[1])
    assert readable.status_code == 200 and readable.content == PDF
    assert (await intake.client.get(doc["content_url"], headers=strangers[0])).status_code == 404
    viewer = intake.headers(roles=("report_viewer",))
    assert (await intake.client.get(doc["content_url"], headers=viewer)).status_code == 403
    elsewhere = (await intake.receive())["code"]  # a dossier the officer reads does not open another's scans
    wrong_pair = await intake.client.get(f"/api/v1/dossiers/{elsewhere}/documents/{doc['id']}/content",
                                         headers=intake.headers())
    assert wrong_pair.status_code == 404


async def test_the_supplement_event_carries_the_manifest(intake: Intake) -> None:
    dossier = await intake.receive()
    code, dossier_id = dossier["code"], uuid.UUID(dossier["id"])
    await intake.follow(SupplementRequested(
        dossier_id=dossier_id, code=code, actor="chuyen-vien-2", agency=WARD, at=datetime.now(UTC), state=5,
        sub_state="citizen_requested", items=["Giấy chứng sinh"], reason="Bản chụp mờ", policy="pause"))
    scan = (await intake.upload(code, 2, JPEG, file_name="chung-sinh.jpg")).json()
    r = await intake.client.post(f"/api/v1/dossiers/{code}/supplements", headers=intake.headers(),
                                 json={"documents": [{"name": "Giấy chứng sinh", "digitised": True}], "note": ""})
    assert r.status_code == 200, r.text
    async with intake.desk.sessions() as session:
        row = (await session.execute(select(OUTBOX.c.headers, OUTBOX.c.payload).where(
            OUTBOX.c.key == str(dossier_id), OUTBOX.c.event_type == SupplementSubmitted.ce_type))).one()
    assert read_envelope(row.headers).type == SupplementSubmitted.ce_type
    event = SupplementSubmitted.model_validate_json(row.payload)
    assert [(str(m.document_id), m.checklist_item, m.sha256, m.size, m.media_type, m.digitisation)
            for m in event.manifest] == [(scan["id"], 2, scan["sha256"], len(JPEG), "image/jpeg", 1)]
    assert "chung-sinh" not in row.payload and "/9j/" not in row.payload  # no file name, no bytes


async def test_a_scan_of_an_earlier_dossier_is_reused_by_reference(intake: Intake) -> None:
    earlier = (await intake.receive())["code"]
    source = (await intake.upload(earlier, 2, JPEG)).json()
    later = (await intake.receive())["code"]
    before = await intake.keys()
    r = await intake.client.post(f"/api/v1/dossiers/{later}/documents/reused", headers=intake.headers("reuse-1"),
                                 json={"item": 2, "document_id": source["id"]})
    assert r.status_code == 201, r.text
    reused = r.json()
    assert reused["digitisation"] == 2 and reused["reused_from"] == source["id"]
    assert reused["sha256"] == source["sha256"] and await intake.keys() == before  # no new bytes
    got = await intake.client.get(reused["content_url"], headers=intake.headers())
    assert got.content == JPEG
    again = await intake.client.post(f"/api/v1/dossiers/{later}/documents/reused", headers=intake.headers("reuse-1"),
                                     json={"item": 2, "document_id": source["id"]})
    assert again.status_code == 200 and again.json()["id"] == reused["id"]
    someone_else = (await intake.receive(personal_id="001190009999"))["code"]
    refused = await intake.client.post(f"/api/v1/dossiers/{someone_else}/documents/reused",
                                       headers=intake.headers("reuse-2"), json={"item": 2, "document_id": source["id"]})
    assert refused.status_code == 404  # another citizen's scan is not within reach


async def test_the_dossier_limit_holds_for_uploads_that_race(intake: Intake) -> None:
    code = (await intake.receive())["code"]
    tight = dataclasses.replace(intake.documents, limits=StorageSettings(max_dossier_bytes=MB))
    officer = _officer()

    both_streaming = asyncio.Barrier(2)  # both uploads passed the first check before either commits

    async def held_back(content: bytes) -> AsyncIterator[bytes]:
        await both_streaming.wait()
        async for chunk in _chunks(content):
            yield chunk

    async def one(n: int) -> Any:
        content = PDF + bytes([n]) * (600 * 1024)
        try:
            return await tight.upload(code, officer, Upload(1, f"race-{n}"), held_back(content))
        except TooLarge as refused:
            return refused

    results = await asyncio.gather(one(1), one(2))
    assert sorted(type(r).__name__ for r in results) == ["TooLarge", "tuple"]
    listing = (await intake.client.get(f"/api/v1/dossiers/{code}/documents", headers=intake.headers())).json()
    assert len(listing) == 1


async def test_a_crash_between_object_and_row_leaves_an_orphan_the_sweep_removes(
        intake: Intake, monkeypatch: pytest.MonkeyPatch) -> None:
    code = (await intake.receive())["code"]
    kept = (await intake.upload(code, 1, PDF + b"kept")).json()
    orphan = PDF + b"orphan" + uuid.uuid4().bytes

    async def crash(self: Documents, row: DocumentRow, *_hooks: Any) -> Any:
        async with self.sessions() as session, session.begin():
            session.add(row)
            await session.flush()
            raise ConnectionError("the process died before the commit")

    before = set(await intake.keys())
    monkeypatch.setattr(Documents, "_record", crash)
    with pytest.raises(ConnectionError):
        await intake.documents.upload(code, _officer(), Upload(1, "crash"), _chunks(orphan))
    monkeypatch.undo()
    async with intake.desk.sessions() as session:
        rows = (await session.execute(select(DocumentRow.key))).scalars().all()  # type: ignore[call-overload]
    stored = await intake.keys()
    assert set(rows) <= set(stored)  # no row points at a missing object
    orphans = [key for key in stored if key not in set(rows)]
    crashed = [key for key in stored if key not in before]
    assert len(crashed) == 1 and crashed[0] in orphans  # (other tests' refused uploads may have left orphans)
    young = await intake.documents.sweep_once()
    assert young.removed == 0 and crashed[0] in await intake.keys()
    later = await intake.documents.sweep_once(now=datetime.now(UTC) + timedelta(days=2))
    assert sorted(later.removed_keys) == sorted(orphans) and later.kept_referenced == len(set(rows))
    assert set(await intake.keys()) == set(rows)
    got = await intake.client.get(kept["content_url"], headers=intake.headers())
    assert got.status_code == 200 and got.content == PDF + b"kept"


def _leftovers(store: ObjectStore) -> list[Path]:
    """Files an upload may leave on local disk: the folder store's tmp/, the S3 store's spool dir."""
    spool: Path = store.temp_dir  # type: ignore[attr-defined]
    return sorted(spool.iterdir()) if spool.exists() else []


def _officer() -> Officer:
    return Officer(sub="can-bo-1", name="Trần Thị Hoa", roles=frozenset({"desk_officer"}), agency=WARD)


async def _chunks(content: bytes, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(content), size):
        yield content[start:start + size]
