"""Electronic certified copies on real PostgreSQL, through the HTTP routes (issue 17 §3 acceptance): the copy's
signature validates with pyHanko against the development root, one changed byte fails validation and the public
check, 40 concurrent requests get 40 gap-free numbers, the numbering restarts in a new year, a failure gives its
number back, the 15:00 rule, and the refusals. The app is built here from the certification routers alone."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from sqlalchemy import Connection, MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine

import services.intake
from deploy.local.dev_ca import CaFiles
from libs.auth import Officer, issue_token
from libs.calendar import load_calendar
from libs.db import make_engine, make_session_factory, upgrade
from libs.db.migrate import alembic_config
from libs.messaging import Outbox
from libs.settings import CommonSettings
from services.intake.certification import store
from services.intake.certification.api import public_router, router
from services.intake.certification.domain import Medium, Original
from services.intake.certification.service import Act, Certification, Scan
from services.intake.certification.signing import AgencySigner, Signed, Validation, validate
from services.intake.store.tables import DOSSIERS, OUTBOX
from tests.conftest import NewDatabase, unique
from tests.unit.intake.certification.support import dev_ca, flipped, scanned_original, settings_for

pytestmark = pytest.mark.infra
MIGRATIONS = Path(services.intake.__file__).parent / "migrations"
REVISION = "5b8e2c4d7f19"
PAPER_REVISION = "f2c7a9d4e631"  # paper_certifications
VN = ZoneInfo("Asia/Ho_Chi_Minh")
CALENDAR = load_calendar()
COMMON = CommonSettings()
ORIGINAL = scanned_original()


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=VN)


class StoppedClock:
    """The service's clock, set by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@pytest.fixture(scope="module")
async def database(new_database: NewDatabase) -> str:
    url = await new_database("intake_cert")
    engine = make_engine(url, pool_size=2)
    await upgrade(engine, MIGRATIONS)
    await engine.dispose()
    return url


@pytest.fixture
async def engine(database: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CaFiles:
    return dev_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def signer(ca: CaFiles) -> AgencySigner:
    return AgencySigner(settings_for(ca))  # loaded once: the agency's e-ID is the use case's, not the signer's


@pytest.fixture
def agency() -> str:
    return unique("ward")  # each test its own agency, so its own books


class Relay:
    """Stands for intake's outbox relay: counts the wake-ups after a commit that staged events."""

    def __init__(self) -> None:
        self.woken = 0

    def wake(self) -> None:
        self.woken += 1


def outbox() -> Outbox:
    return Outbox(OUTBOX, Relay())  # type: ignore[arg-type]


class Desk:
    """One intake process: its use case and its HTTP app, on its own engine (its own in-process queue)."""

    def __init__(self, engine: AsyncEngine, signer: AgencySigner, ca: CaFiles, agency: str, clock: StoppedClock,
                 **settings: Any) -> None:
        self.clock = clock
        self.outbox = outbox()
        self.certification = Certification(
            sessions=make_session_factory(engine), signer=signer,
            settings=settings_for(ca, agency).model_copy(update=settings), calendar=CALENDAR, clock=clock,
            outbox=self.outbox)
        self.app = FastAPI()
        self.app.include_router(router(), prefix="/api/v1")
        self.app.include_router(public_router(), prefix="/api/v1")
        self.app.state.certification = self.certification
        self.app.state.runtime = SimpleNamespace(common=COMMON)  # what libs.auth.fastapi reads the token rules from

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://intake")


def token(agency: str, roles: list[str] | None = None) -> dict[str, str]:
    raw = issue_token("can-bo-1", roles or ["desk_officer"], agency, COMMON.jwt_secret, name="Trần Thị Hoa",
                      issuer=COMMON.jwt_issuer, audience=COMMON.jwt_audience)
    return {"Authorization": f"Bearer {raw}"}


async def certify(client: httpx.AsyncClient, agency: str, body: bytes = ORIGINAL, **params: Any) -> httpx.Response:
    query = {"document_type": "Giấy khai sinh", "copies": 2, **params}
    return await client.post("/api/v1/certified-copies", params=query, content=body,
                             headers={**token(agency), "Content-Type": "application/pdf"})


async def check(client: httpx.AsyncClient, number: str, pdf: bytes) -> dict[str, Any]:
    answer = await client.get("/api/v1/public/certified-copies/verify",
                              params={"number": number, "sha256": hashlib.sha256(pdf).hexdigest()})
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def validated(pdf: bytes, ca: CaFiles) -> Validation:
    """pyHanko's validation (sync: it runs its own event loop) in a worker thread."""
    return await asyncio.to_thread(validate, pdf, [ca.root_cert])


async def certified_events(engine: AsyncEngine, agency: str) -> list[dict[str, Any]]:
    """The agency's CopyCertified events staged in intake's outbox, in staging order."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(OUTBOX.c.payload).where(
            OUTBOX.c.event_type == "vn.onestop.copy.certified.v1").order_by(OUTBOX.c.id))).scalars().all()
    events = [json.loads(payload) for payload in rows]
    return [e for e in events if e["agency"] == agency]


async def last_number(engine: AsyncEngine, agency: str, year: int, medium: str = "electronic") -> int | None:
    async with engine.connect() as conn:
        query = select(store.CERT_BOOKS.c.last_number).where(store.CERT_BOOKS.c.agency == agency,
                                                             store.CERT_BOOKS.c.year == year,
                                                             store.CERT_BOOKS.c.medium == medium)
        value = (await conn.execute(query)).scalar_one_or_none()
    return None if value is None else int(value)


# --- the schema ------------------------------------------------------------------------------------------------

async def test_the_migration_is_intakes_one_head_and_matches_the_tables(engine: AsyncEngine) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(MIGRATIONS))
    assert {REVISION, PAPER_REVISION} <= {r.revision for r in scripts.walk_revisions()}
    assert len(scripts.get_heads()) == 1, f"intake has several migration heads: {scripts.get_heads()}"
    ours = MetaData()
    for table in (store.CERT_BOOKS, store.CERTIFIED_COPIES, store.PAPER_CERTIFICATIONS):
        table.to_metadata(ours)

    def differences(conn: Connection) -> list[Any]:
        def ours_only(name: str | None, kind: str, _parents: Any) -> bool:  # intake's other tables are not ours
            return kind != "table" or name in ours.tables

        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": ours_only})
        return list(compare_metadata(context, ours))

    async with engine.connect() as conn:
        assert await conn.run_sync(differences) == []


# --- a copy, checked -------------------------------------------------------------------------------------------

async def test_a_certified_copy_validates_and_anyone_can_check_it(engine: AsyncEngine, signer: AgencySigner,
                                                                  ca: CaFiles, agency: str) -> None:
    desk = Desk(engine, signer, ca, agency, StoppedClock(vn(2026, 12, 8, 9, 30)))
    async with desk.client() as client:
        answer = await certify(client, agency)
        assert answer.status_code == 201, answer.text
        pdf = answer.content
        assert answer.headers["content-type"] == "application/pdf"
        assert answer.headers["x-certification-number"] == "01/2026"
        assert answer.headers["x-certification-book"] == "01/2026-SCT/BS"
        assert answer.headers["x-content-sha256"] == hashlib.sha256(pdf).hexdigest()
        assert datetime.fromisoformat(answer.headers["x-due-at"]) == vn(2026, 12, 8, 17)
        verdict = await validated(pdf, ca)
        assert verdict.ok, verdict.summary

        found = await check(client, "01/2026", pdf)
        assert found == {"issued": True, "agency": agency, "agency_name": "Ủy ban nhân dân phường Đức Xuân",
                         "number": "01/2026", "book": "01/2026-SCT/BS", "medium": "electronic",
                         "signed_on": "2026-12-08"}  # and nothing about the person or the paper

        changed = flipped(pdf, len(ORIGINAL) // 2)  # one byte of the scan
        assert not (await validated(changed, ca)).ok
        assert await check(client, "01/2026", changed) == {"issued": False, "agency": None, "agency_name": None,
                                                            "number": None, "book": None, "medium": None,
                                                            "signed_on": None}
        assert (await check(client, "02/2026", pdf))["issued"] is False  # the right file, another number
        assert (await check(client, "01/2025", pdf))["issued"] is False
    async with engine.connect() as conn:
        row = (await conn.execute(select(store.CERTIFIED_COPIES).where(
            store.CERTIFIED_COPIES.c.agency == agency))).one()
    assert (row.number, row.copies, row.document_type, row.officer, row.size) == (
        1, 2, "Giấy khai sinh", "can-bo-1", len(pdf))
    assert row.signed_at == vn(2026, 12, 8, 9, 30) and row.pdf_key is None


async def test_a_malformed_check_is_refused(engine: AsyncEngine, signer: AgencySigner, ca: CaFiles,
                                            agency: str) -> None:
    desk = Desk(engine, signer, ca, agency, StoppedClock(vn(2026, 12, 8, 9, 30)))
    async with desk.client() as client:
        for number, sha in (("01-2026", "a" * 64), ("01/2026", "z" * 64), ("01/2026", "a" * 63)):
            answer = await client.get("/api/v1/public/certified-copies/verify",
                                      params={"number": number, "sha256": sha})
            assert answer.status_code == 422, (number, sha, answer.text)


# --- the book ------------------------------------------------------------------------------------------------

async def test_40_concurrent_requests_get_40_gap_free_numbers(database: str, signer: AgencySigner, ca: CaFiles,
                                                               agency: str) -> None:
    """Two intake processes (two engines, two in-process queues) share the book: its row lock orders them."""
    engines = [make_engine(database, pool_size=5), make_engine(database, pool_size=5)]
    clock = StoppedClock(vn(2026, 12, 8, 10))
    desks = [Desk(e, signer, ca, agency, clock) for e in engines]
    try:
        async with desks[0].client() as one, desks[1].client() as two:
            answers = await asyncio.gather(*(certify(one if i % 2 else two, agency) for i in range(40)))
        assert [a.status_code for a in answers] == [201] * 40
        numbers = sorted(int(a.headers["x-certification-number"].split("/")[0]) for a in answers)
        assert numbers == list(range(1, 41))
        assert len({a.headers["x-content-sha256"] for a in answers}) == 40
        assert await desks[0].certification.book_entries(2026) == list(range(1, 41))
        assert await last_number(engines[0], agency, 2026) == 40
        sample = answers[17]
        assert (await validated(sample.content, ca)).ok
        async with desks[1].client() as client:
            found = await check(client, sample.headers["x-certification-number"], sample.content)
        assert found["issued"] is True
    finally:
        for e in engines:
            await e.dispose()


async def test_the_numbering_restarts_at_01_in_a_new_year(engine: AsyncEngine, signer: AgencySigner, ca: CaFiles,
                                                          agency: str) -> None:
    desk = Desk(engine, signer, ca, agency, StoppedClock(vn(2026, 12, 31, 23, 59)))
    async with desk.client() as client:
        before = [(await certify(client, agency)).headers["x-certification-number"] for _ in range(2)]
        desk.clock.at = vn(2027, 1, 1, 0, 0, 30)  # 31/12/2026 17:00:30 in UTC: the local year decides
        after = (await certify(client, agency)).headers["x-certification-number"]
    assert before == ["01/2026", "02/2026"] and after == "01/2027"
    assert await last_number(engine, agency, 2026) == 2 and await last_number(engine, agency, 2027) == 1


class FailsOnce:
    """The agency signer, failing its first signature (an HSM hiccup)."""

    def __init__(self, inner: AgencySigner) -> None:
        self.inner = inner
        self.failed = False

    def sign(self, original: bytes, statement: Any, at: datetime) -> Signed:
        if not self.failed:
            self.failed = True
            raise RuntimeError("the key is not available")
        return self.inner.sign(original, statement, at)


async def test_a_copy_that_fails_to_sign_gives_its_number_back(engine: AsyncEngine, signer: AgencySigner,
                                                               ca: CaFiles, agency: str) -> None:
    desk = Desk(engine, signer, ca, agency, StoppedClock(vn(2026, 12, 8, 11)))
    flaky = Certification(sessions=make_session_factory(engine), signer=FailsOnce(signer),  # type: ignore[arg-type]
                          settings=settings_for(ca, agency), calendar=CALENDAR, clock=desk.clock, outbox=outbox())
    officer = Officer("can-bo-1", "Trần Thị Hoa", frozenset({"desk_officer"}), agency)
    act = Act([Scan(ORIGINAL, Original("Giấy khai sinh"))])
    with pytest.raises(RuntimeError):
        await flaky.certify(act, officer)
    issued = await flaky.certify(act, officer)
    assert [c.number.reference for c in issued] == ["01/2026"]
    assert await flaky.book_entries(2026) == [1] and await last_number(engine, agency, 2026) == 1
    assert [e["number"] for e in await certified_events(engine, agency)] == [1]  # the failed act staged nothing


async def test_one_number_per_document_type_certified_at_one_time(engine: AsyncEngine, signer: AgencySigner,
                                                                  ca: CaFiles, agency: str) -> None:
    desk = Desk(engine, signer, ca, agency, StoppedClock(vn(2026, 12, 8, 11)))
    officer = Officer("can-bo-1", "Trần Thị Hoa", frozenset({"desk_officer"}), agency)
    act = Act([Scan(ORIGINAL, Original("Giấy khai sinh", 3)), Scan(scanned_original(1), Original("Bằng tốt nghiệp")),
               Scan(scanned_original(3), Original("giấy khai sinh"))])
    issued = await desk.certification.certify(act, officer)
    assert [c.number.order for c in issued] == [1, 1, 2]  # the two birth certificates share 01
    assert await desk.certification.book_entries(2026) == [1, 1, 2]
    assert await last_number(engine, agency, 2026) == 2
    assert all([(await validated(c.pdf, ca)).ok for c in issued])


# --- the 15:00 rule ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("received", "due"), [
    (vn(2026, 12, 8, 14, 59, 59), vn(2026, 12, 8, 17)),
    (vn(2026, 12, 8, 15, 0, 0), vn(2026, 12, 8, 17)),
    (vn(2026, 12, 8, 15, 0, 1), vn(2026, 12, 9, 17)),
])
async def test_the_copy_is_due_by_the_certification_15h_rule(engine: AsyncEngine, signer: AgencySigner,
                                                             ca: CaFiles, agency: str, received: datetime,
                                                             due: datetime) -> None:
    desk = Desk(engine, signer, ca, agency, StoppedClock(vn(2026, 12, 8, 16, 30)))
    async with desk.client() as client:
        answer = await certify(client, agency, received_at=received.isoformat())
    assert answer.status_code == 201, answer.text
    assert datetime.fromisoformat(answer.headers["x-due-at"]) == due
    async with engine.connect() as conn:
        row = (await conn.execute(select(store.CERTIFIED_COPIES).where(
            store.CERTIFIED_COPIES.c.agency == agency))).one()
    assert row.received_at == received and row.due_at == due


# --- refusals: none of them takes a number ---------------------------------------------------------------------

async def test_refusals_take_no_number(engine: AsyncEngine, signer: AgencySigner, ca: CaFiles, agency: str) -> None:
    desk = Desk(engine, signer, ca, agency, StoppedClock(vn(2026, 12, 8, 9)), max_original_bytes=len(ORIGINAL))
    async with desk.client() as client:
        assert (await certify(client, "000.00.22.H55")).status_code == 403  # another ward's officer
        assert (await certify(client, agency, body=b"not a pdf")).status_code == 415
        assert (await certify(client, agency, body=ORIGINAL + b"\n")).status_code == 413
        assert (await certify(client, agency, document_type="   ")).status_code == 422
        assert (await certify(client, agency, copies=0)).status_code == 422
        future = (desk.clock.at + timedelta(minutes=1)).isoformat()
        assert (await certify(client, agency, received_at=future)).status_code == 422
        assert (await certify(client, agency, received_at="2026-12-08T09:00:00")).status_code == 422  # no zone
        anonymous = await client.post("/api/v1/certified-copies", params={"document_type": "Giấy khai sinh"},
                                      content=ORIGINAL)
        assert anonymous.status_code == 401
        specialist = await client.post("/api/v1/certified-copies", params={"document_type": "Giấy khai sinh"},
                                       content=ORIGINAL, headers=token(agency, ["specialist"]))
        assert specialist.status_code == 403
        assert (await certify(client, agency)).headers["x-certification-number"] == "01/2026"
    assert await last_number(engine, agency, 2026) == 1


def test_the_routes_declare_their_answers() -> None:
    app = FastAPI()
    app.include_router(router(), prefix="/api/v1")
    app.include_router(public_router(), prefix="/api/v1")
    paths = app.openapi()["paths"]
    post = paths["/api/v1/certified-copies"]["post"]
    assert {"201", "401", "403", "413", "415", "422"} <= set(post["responses"])
    assert "application/pdf" in post["requestBody"]["content"]
    assert "x-certification-number" in {h.lower() for h in post["responses"]["201"]["headers"]}
    assert {"200", "422"} <= set(paths["/api/v1/public/certified-copies/verify"]["get"]["responses"])


# --- every act is an event; paper acts -------------------------------------------------------------------------

async def paper(client: httpx.AsyncClient, agency: str, key: str, **body: Any) -> httpx.Response:
    return await client.post("/api/v1/certifications/paper", json={"document_type": "Giấy khai sinh", "copies": 2,
                                                                   **body},
                             headers={**token(agency), "Idempotency-Key": key})


async def test_every_electronic_act_stages_one_event_per_number(engine: AsyncEngine, signer: AgencySigner,
                                                                ca: CaFiles, agency: str) -> None:
    desk = Desk(engine, signer, ca, agency, StoppedClock(vn(2026, 12, 8, 9, 30)))
    async with desk.client() as client:
        answer = await certify(client, agency, dossier_code="not-a-dossier")
    officer = Officer("can-bo-1", "Trần Thị Hoa", frozenset({"desk_officer"}), agency)
    act = Act([Scan(ORIGINAL, Original("Giấy khai sinh", 3)), Scan(scanned_original(1), Original("Bằng tốt nghiệp")),
               Scan(scanned_original(1), Original("giấy khai sinh"))])
    await desk.certification.certify(act, officer)
    events = await certified_events(engine, agency)
    assert [(e["medium"], e["number"], e["copies"], e["year"], e["book_type"]) for e in events] == [
        ("electronic", 1, 2, 2026, "SCT/BS"), ("electronic", 2, 4, 2026, "SCT/BS"),  # 3 + 1 birth certificates
        ("electronic", 3, 1, 2026, "SCT/BS")]
    first = events[0]
    assert first["dossier_id"] == answer.headers["x-certified-copy-id"]  # no dossier: the entry's own id
    assert first["code"] == "01/2026 SCT/BS" and first["actor"] == "can-bo-1"
    assert datetime.fromisoformat(first["certified_at"]) == vn(2026, 12, 8, 9, 30)
    assert desk.outbox.relay.woken == 2  # type: ignore[attr-defined]


async def test_paper_acts_take_the_paper_book_and_replay_by_key(engine: AsyncEngine, signer: AgencySigner,
                                                                ca: CaFiles, agency: str) -> None:
    desk = Desk(engine, signer, ca, agency, StoppedClock(vn(2026, 12, 8, 10)))
    async with desk.client() as client:
        first = await paper(client, agency, "k1")
        assert first.status_code == 201, first.text
        assert first.json() == {"reference": "01/2026", "book_type": "SCT/BS", "number": 1, "year": 2026,
                                "copies": 2, "certified_at": first.json()["certified_at"]}
        assert datetime.fromisoformat(first.json()["certified_at"]) == vn(2026, 12, 8, 10)
        assert (await certify(client, agency)).headers["x-certification-number"] == "01/2026"  # its own book
        assert (await paper(client, agency, "k2", copies=5)).json()["number"] == 2
        again = await paper(client, agency, "k1")
        assert again.status_code == 200 and again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert (await paper(client, agency, "k1", copies=3)).status_code == 422  # the key names another act
        assert (await certify(client, agency)).headers["x-certification-number"] == "02/2026"
        assert (await paper(client, agency, "k3", document_type="Sổ hộ khẩu")).json()["number"] == 3
        assert (await paper(client, agency, "k4", copies=0)).status_code == 422
        assert (await paper(client, "000.00.22.H55", "k5")).status_code == 403
    assert await desk.certification.book_entries(2026, Medium.PAPER) == [1, 2, 3]
    assert await desk.certification.book_entries(2026) == [1, 2]
    assert await last_number(engine, agency, 2026, "paper") == 3
    events = await certified_events(engine, agency)
    by_medium = {m: [e["number"] for e in events if e["medium"] == m] for m in ("paper", "electronic")}
    assert by_medium == {"paper": [1, 2, 3], "electronic": [1, 2]}  # gap-free per medium, a replay stages nothing
    assert [e["copies"] for e in events if e["medium"] == "paper"] == [2, 5, 2]


async def test_concurrent_paper_acts_and_repeats_get_gap_free_numbers(engine: AsyncEngine, signer: AgencySigner,
                                                                      ca: CaFiles, agency: str) -> None:
    desk = Desk(engine, signer, ca, agency, StoppedClock(vn(2026, 12, 8, 11)))
    async with desk.client() as client:
        answers = await asyncio.gather(*(paper(client, agency, f"key-{i}") for i in range(12)),
                                       *(paper(client, agency, "same") for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201] * 13
    assert len({a.json()["number"] for a in answers[12:]}) == 1  # the repeats all answer one entry
    assert await desk.certification.book_entries(2026, Medium.PAPER) == list(range(1, 14))
    assert [e["number"] for e in await certified_events(engine, agency)] == list(range(1, 14))


async def test_an_act_for_one_of_the_agencys_dossiers_is_that_dossiers_event(
        engine: AsyncEngine, signer: AgencySigner, ca: CaFiles, agency: str) -> None:
    dossier_id, code = uuid.uuid4(), unique("H55-261208")
    async with engine.begin() as conn:
        await conn.execute(DOSSIERS.insert().values(
            id=dossier_id, code=code, receiving_agency=agency, procedure_code="2.000815", procedure_version=1,
            channel="in_person", state="received", applicant_name="Nguyễn Văn A", personal_id="001200000001",
            received_at=vn(2026, 12, 8, 8), request_hash="0" * 64, procedure={}, documents=[]))
    desk = Desk(engine, signer, ca, agency, StoppedClock(vn(2026, 12, 8, 9)))
    other = Desk(engine, signer, ca, unique("ward"), desk.clock)
    async with desk.client() as client, other.client() as elsewhere:
        assert (await paper(client, agency, "for-dossier", dossier_code=code)).status_code == 201
        assert (await certify(client, agency, dossier_code=code)).status_code == 201
        foreign = await paper(elsewhere, other.certification.agency, "x", dossier_code=code)  # not its dossier
    served = await certified_events(engine, agency)
    assert [(e["medium"], e["dossier_id"], e["code"]) for e in served] == [
        ("paper", str(dossier_id), code), ("electronic", str(dossier_id), code)]
    (stranger,) = await certified_events(engine, other.certification.agency)
    assert stranger["dossier_id"] != str(dossier_id) and stranger["code"] == "01/2026 SCT/BS"
    assert foreign.json()["reference"] == "01/2026"
