"""The pure parts of a dossier's scans (issue 17 §1): file names kept as data, who reads, who uploads, checklist
items, the dossier's limit; the manifest in the events; the upload route's body allowance; the start-up refusal."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request

from libs.contracts.common import Digitisation, DocumentManifest
from libs.contracts.intake import SupplementSubmitted
from libs.runtime.body_limit import BodyLimit, allow
from libs.runtime.runtime import UnsafeSettings
from libs.settings import CommonSettings
from libs.storage import FolderObjectStore
from services.intake.app import create_app, storage_settings
from services.intake.domain.documents import (
    FILE_NAME_MAX,
    Readers,
    UnknownItem,
    checklist_item,
    clean_file_name,
    may_upload,
    over_dossier_limit,
    pages_of,
    reuse_state,
)

WARD, OTHER_WARD, DEPARTMENT = "000.00.21.H55", "000.00.22.H55", "000.00.03.H55"


@pytest.mark.parametrize(("raw", "kept"), [
    ("giay-khai-sinh.pdf", "giay-khai-sinh.pdf"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\Windows\\system32\\cmd.exe", "cmd.exe"),
    ("C:evil.pdf", "Cevil.pdf"),
    ("scan\x00.pdf\r\nX-Injected: 1", "scan.pdfX-Injected 1"),
    ("\u202egpj.exe", "gpj.exe"),  # right-to-left override: a format character, dropped
    ("...hidden", "hidden"),
    ("..", None),
    ("  \t ", None),
    ("", None),
    (None, None),
    ("Giấy khai sinh.pdf", "Giấy khai sinh.pdf"),
    ("Gia\u0301y.pdf", "Giáy.pdf"),  # decomposed accents are composed (NFC)
])
def test_a_file_name_is_kept_as_data_without_paths_or_controls(raw: str | None, kept: str | None) -> None:
    assert clean_file_name(raw) == kept


def test_a_long_file_name_is_cut() -> None:
    cleaned = clean_file_name("a" * 1000 + ".pdf")
    assert cleaned is not None and len(cleaned) == FILE_NAME_MAX


def test_readers_are_the_receiving_ward_and_agencies_that_acknowledged() -> None:
    before = Readers(WARD)
    after = Readers(WARD, frozenset({DEPARTMENT}))
    assert before.admit(WARD, {"desk_officer"}) and before.admit(WARD, {"specialist"})
    assert not before.admit(DEPARTMENT, {"specialist"}) and after.admit(DEPARTMENT, {"specialist"})
    assert not after.admit(OTHER_WARD, {"desk_officer"})
    assert not after.admit(WARD, {"report_viewer"})  # figures, not papers
    assert not after.admit(OTHER_WARD, {"province_admin"})  # personal data: no province-wide reading
    assert after.admit(DEPARTMENT, {"admin"})


def test_only_the_receiving_desk_uploads() -> None:
    assert may_upload(WARD, WARD, {"desk_officer"})
    assert not may_upload(WARD, OTHER_WARD, {"desk_officer"})
    assert not may_upload(WARD, WARD, {"specialist"})


def test_checklist_items_are_counted_from_one() -> None:
    papers = ["Tờ khai", "Giấy chứng sinh", "Giấy tờ tùy thân"]
    assert checklist_item(papers, 1) == "Tờ khai" and checklist_item(papers, 3) == "Giấy tờ tùy thân"
    for wrong in (0, 4, -1):
        with pytest.raises(UnknownItem, match="1 to 3"):
            checklist_item(papers, wrong)
    with pytest.raises(UnknownItem, match="no checklist"):
        checklist_item([], 1)


def test_the_dossier_limit_and_pages() -> None:
    assert not over_dossier_limit(90, 10, 100) and over_dossier_limit(90, 11, 100)
    assert pages_of("image/png") == pages_of("image/jpeg") == 1 and pages_of("application/pdf") is None


def test_events_without_a_manifest_still_parse_and_a_manifest_has_no_bytes_or_name() -> None:
    old = SupplementSubmitted.model_validate_json(
        f'{{"dossier_id": "{uuid.uuid4()}", "code": "X", "documents": {{"total": 1, "digitised": 1}}}}')
    assert old.manifest == []
    entry = DocumentManifest(document_id=uuid.uuid4(), checklist_item=2, item_name="Giấy chứng sinh",
                             sha256="ab" * 32, size=10, media_type="image/png", pages=1,
                             digitisation=Digitisation.DIGITISED, uploaded_at=datetime.now(UTC))
    dumped = SupplementSubmitted(dossier_id=uuid.uuid4(), code="X", manifest=[entry]).model_dump(mode="json")
    assert dumped["manifest"][0]["digitisation"] == 1
    assert set(dumped["manifest"][0]) == {"document_id", "kind", "checklist_item", "item_name", "sha256", "size",
                                          "media_type", "pages", "digitisation", "reused_from", "uploaded_at"}


def _limited() -> FastAPI:
    app = FastAPI()

    @app.post("/api/v1/dossiers/{code}/documents")
    async def upload(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.post("/api/v1/dossiers/{code}/notes")
    async def note(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    app.add_middleware(BodyLimit, max_bytes=1024)
    allow(app, "POST", r"/api/v1/dossiers/[^/]+/documents", 8 * 1024)
    return app


async def test_the_upload_route_alone_may_pass_the_suites_body_bound() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_limited()), base_url="http://t") as client:
        scan = await client.post("/api/v1/dossiers/A-1/documents", content=bytes(4096))
        note = await client.post("/api/v1/dossiers/A-1/notes", content=bytes(4096))
        nested = await client.post("/api/v1/dossiers/A-1/documents/x", content=bytes(4096))
        too_big = await client.post("/api/v1/dossiers/A-1/documents", content=bytes(9 * 1024))
    assert scan.status_code == 200 and scan.json() == {"size": 4096}
    assert note.status_code == nested.status_code == too_big.status_code == 413


def test_intake_refuses_to_start_outside_development_with_an_unsafe_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESTOP_STORAGE_BACKEND", "s3")
    monkeypatch.setenv("ONESTOP_STORAGE_S3_ENDPOINT", "http://s3.internal:9000")
    with pytest.raises(UnsafeSettings, match=r"intake refuses to start in production.*ONESTOP_STORAGE_S3_SECRET"):
        storage_settings(CommonSettings(environment="production"))
    assert storage_settings(CommonSettings()).backend == "s3"  # development: anything goes
    monkeypatch.setenv("ONESTOP_STORAGE_BACKEND", "folder")
    assert storage_settings(CommonSettings(environment="production")).backend == "folder"


def test_the_app_wires_the_store_the_sweep_and_the_upload_allowance(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("ONESTOP_RUN_DIR", str(tmp_path))
    monkeypatch.setenv("ONESTOP_INTAKE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}")
    monkeypatch.setenv("ONESTOP_STORAGE_ORPHAN_GRACE_SECONDS", str(3 * 3600))
    app = create_app()
    documents = app.state.documents
    assert isinstance(documents.store, FolderObjectStore) and documents.store.root == (tmp_path / "documents")
    assert documents.limits.orphan_grace_seconds == 3 * 3600
    assert "document_sweep" in [loop.__name__ for loop in app.state.runtime.loops]
    allowances = app.state.body_allowances
    scans = [a for a in allowances if a.path.fullmatch("/api/v1/dossiers/X-1/documents")]
    assert [(a.method, a.max_bytes) for a in scans] == [("POST", 20 * 1024 * 1024)]
    monkeypatch.setenv("ONESTOP_INTAKE_DOCUMENTS_SWEEP_ENABLED", "false")
    assert "document_sweep" not in [loop.__name__ for loop in create_app().state.runtime.loops]


def test_a_reused_result_is_state_3_and_a_reused_paper_state_2_as_the_contract_names_them() -> None:
    assert reuse_state("result") == Digitisation.REUSED_RESULT
    assert reuse_state("paper") == Digitisation.REUSED_PAPER
