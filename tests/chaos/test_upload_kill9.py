"""Chaos (issue 17): SIGKILL intake in the middle of a burst of scan uploads to the real S3Proxy, start it again,
and check the document store against PostgreSQL:

- every upload that got 201 is in its dossier's manifest and downloads byte-identical;
- every `documents` row's key is in the bucket's listing (no dangling reference);
- the bucket's objects no row references are only bytes whose upload got no 201 (the kill came between the
  object's PUT and the row's commit), and the orphan sweep removes them;
- each failed upload sent again with its Idempotency-Key yields one document, and a repeat answers that one.

One intake process (its own port, database, bucket and spool dir); the Kafka broker only because intake starts
its producer and consumer. Figures are printed, not asserted on."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import secrets
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from libs.auth import issue_token
from libs.settings import CommonSettings
from libs.storage import S3ObjectStore, content_key, sweep_orphans
from libs.storage.store import MIN_GRACE
from tests.conftest import NewDatabase
from tests.support.kafka import start_groups_at_end
from tests.support.stack import CONSUMES, SERVICES, Stack

pytestmark = pytest.mark.infra
WARD = "000.00.21.H55"
PROCEDURE = "1.001193"  # three papers on its checklist: items 1–3
DOSSIERS = 4
UPLOADS = 40
CONCURRENCY = 8
KILL_AFTER = 10  # 201s before the SIGKILL: all 8 workers are busy by then, so uploads are in flight
MB = 1024 * 1024


class UploadStack(Stack):
    """Intake only, on ports of its own (e2e and the other chaos stacks use 18000, 18300 and 18400)."""

    @staticmethod
    def port(service: str) -> int:
        return 18600 + 1 + SERVICES.index(service)


@dataclass
class Scan:
    code: str
    item: int
    key: str  # the Idempotency-Key
    data: bytes
    status: int | None = None  # None: no answer (the connection died with intake)
    document_id: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def scan_pdf(size: int) -> bytes:
    """A PDF by its signature (intake decides the type from the bytes) with random, so distinct, content."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    return head + os.urandom(size - len(head) - 7) + b"\n%%EOF\n"


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


def headers(key: str | None = None) -> dict[str, str]:
    token = issue_token("chaos-upload", ["desk_officer"], WARD, CommonSettings().jwt_secret)
    return {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}


@dataclass
class Env:
    stack: UploadStack
    store: S3ObjectStore  # the test's own client of intake's bucket (and spool dir, for the sweep's temp files)
    db: str  # asyncpg DSN of intake's database


@pytest.fixture
async def env(kafka_bootstrap: str, new_database: NewDatabase, s3_endpoint: str) -> AsyncIterator[Env]:
    url = await new_database(f"chaos_upload_{secrets.token_hex(3)}")
    run_dir = Path(tempfile.mkdtemp(prefix="onestop-chaos-upload-"))
    bucket = f"onestop-chaos-{uuid.uuid4().hex[:12]}"
    spool = run_dir / "spool"
    stack = UploadStack(run_dir=run_dir, kafka=kafka_bootstrap, db_urls={"intake": url}, extra_env={
        "ONESTOP_CLOCK": "system", "ONESTOP_LOG_LEVEL": "WARNING",
        "ONESTOP_STORAGE_BACKEND": "s3", "ONESTOP_STORAGE_S3_ENDPOINT": s3_endpoint,
        "ONESTOP_STORAGE_S3_BUCKET": bucket, "ONESTOP_STORAGE_SPOOL_DIR": str(spool),
        # The sweep is called by the test, with its clock moved past the grace period; intake's own loop
        # (24 h grace) would remove nothing in this test anyway.
        "ONESTOP_INTAKE_DOCUMENTS_SWEEP_ENABLED": "false",
    })
    store = S3ObjectStore.connect(bucket=bucket, endpoint=s3_endpoint, region="us-east-1",
                                  access_key_id="onestop-dev", secret_access_key="onestop-dev-secret",
                                  spool_dir=spool)
    await store.create_bucket()
    # A fresh group would otherwise read the shared processing topic from its start.
    await start_groups_at_end(kafka_bootstrap, {stack.group("intake"): CONSUMES["intake"]})
    try:
        yield Env(stack, store, url.replace("postgresql+asyncpg://", "postgresql://"))
    finally:
        stack.stop_all()
        async for info in store.list():  # leave the test server's disk as we found it
            await store.delete(info.key)
        await store.delete_bucket()


async def rows(db: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(db)
    try:
        return list(await conn.fetch("SELECT id, key, sha256, idempotency_key FROM documents"))
    finally:
        await conn.close()


async def listing(store: S3ObjectStore) -> set[str]:
    return {info.key async for info in store.list()}


async def send(client: httpx.AsyncClient, base: str, scan: Scan) -> None:
    """One upload; its outcome is recorded on the scan (a dead connection is an outcome here, not an error)."""
    try:
        r = await client.post(f"{base}/api/v1/dossiers/{scan.code}/documents", params={"item": scan.item},
                              content=scan.data, headers={**headers(scan.key), "Content-Type": "application/pdf"})
    except httpx.TransportError:
        scan.status = None
        return
    scan.status = r.status_code
    if r.status_code in (200, 201):
        scan.document_id = str(r.json()["id"])


async def burst(client: httpx.AsyncClient, stack: UploadStack, scans: list[Scan]) -> set[str]:
    """CONCURRENCY workers send the scans; after KILL_AFTER 201s intake is SIGKILLed. Returns the keys of the
    uploads in flight at the kill (started, not answered yet); no new upload starts after it."""
    queue = list(reversed(scans))
    created = 0
    killed = asyncio.Event()
    in_flight: set[str] = set()
    in_flight_at_kill: set[str] = set()
    base = stack.url("intake")

    async def worker() -> None:
        nonlocal created
        while queue and not killed.is_set():
            scan = queue.pop()
            in_flight.add(scan.key)
            await send(client, base, scan)
            in_flight.discard(scan.key)
            if scan.status == 201:
                created += 1
                if created == KILL_AFTER and not killed.is_set():
                    in_flight_at_kill.update(in_flight)
                    killed.set()
                    stack.kill9("intake")

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return in_flight_at_kill


async def check_manifest(client: httpx.AsyncClient, base: str, answered: list[Scan]) -> None:
    """Each answered upload is in its dossier's manifest and its content is the bytes that were sent."""
    manifests: dict[str, dict[str, dict[str, Any]]] = {}
    for code in {s.code for s in answered}:
        r = await client.get(f"{base}/api/v1/dossiers/{code}/documents", headers=headers())
        assert r.status_code == 200, r.text
        manifests[code] = {d["id"]: d for d in r.json()}
    for scan in answered:
        entry = manifests[scan.code].get(str(scan.document_id))
        assert entry is not None, f"upload {scan.key} answered {scan.status} but is not in the manifest"
        assert (entry["sha256"], entry["size"], entry["checklist_item"]) == (scan.sha256, len(scan.data), scan.item)
        r = await client.get(f"{base}{entry['content_url']}", headers=headers())
        assert r.status_code == 200 and r.content == scan.data, f"{scan.key}: the download differs"


async def check_no_dangling(env: Env) -> tuple[list[asyncpg.Record], set[str]]:
    found, listed = await rows(env.db), await listing(env.store)
    dangling = [r["key"] for r in found if r["key"] not in listed]
    assert dangling == [], f"rows pointing at missing objects: {dangling}"
    return found, listed


async def test_kill9_mid_upload_burst_loses_no_document_and_leaves_no_dangling_reference(env: Env) -> None:
    started = time.monotonic()
    stack = env.stack
    stack.start("intake")
    await stack.wait_ready("intake")
    base = stack.url("intake")
    async with httpx.AsyncClient(timeout=httpx.Timeout(60, connect=5)) as client:
        codes = []
        for i in range(DOSSIERS):
            r = await client.post(f"{base}/api/v1/dossiers", headers=headers(), json={
                "procedure_code": PROCEDURE, "channel": "in_person",
                "applicant": {"full_name": "Nguyễn Thị Lan", "personal_id": f"0191900{i:05d}",
                              "phone": "0912345678"}})
            assert r.status_code == 201, r.text
            codes.append(str(r.json()["code"]))
        scans = [Scan(codes[n % DOSSIERS], n % 3 + 1, uuid.uuid4().hex, scan_pdf(random.randint(1 * MB, 3 * MB)))
                 for n in range(UPLOADS)]

        at_kill = await burst(client, stack, scans)
        assert "intake" not in stack.procs, "the burst ended before the kill"
        created = [s for s in scans if s.status == 201]
        failed = [s for s in scans if s.status is None]  # died in flight, or not started after the kill
        assert [s for s in scans if s.status not in (None, 201)] == [], "an upload was refused"
        killed_in_flight = sum(1 for s in failed if s.key in at_kill)
        # Answered after the kill: the 201 was already on its way (in the socket's buffer) when intake died.
        late_201 = sum(1 for s in created if s.key in at_kill)

        stack.start("intake")
        await stack.wait_ready("intake")

        # Every 201 survived the kill: listed and byte-identical; every row's object is in the bucket.
        await check_manifest(client, base, created)
        found, listed = await check_no_dangling(env)
        referenced_keys = {r["key"] for r in found}
        assert {s.sha256 for s in created} <= {r["sha256"] for r in found}
        # Rows whose upload got no answer: the kill came after the commit, before the 201 reached us.
        committed_unanswered = {r["idempotency_key"] for r in found} - {s.key for s in created}
        assert committed_unanswered <= {s.key for s in failed}

        # Unreferenced objects are bytes of uploads that got no 201 (PUT done, row not committed).
        orphans = listed - referenced_keys
        assert orphans <= {content_key(s.sha256) for s in failed}, "an object that is neither a row's nor a failure's"

        # The sweep, its clock moved past the minimum grace period: it removes exactly those orphans and the
        # spool files the kill left, and keeps every referenced object.
        async def referenced(keys: Collection[str]) -> Collection[str]:
            conn = await asyncpg.connect(env.db)
            try:
                return {r["key"] for r in await conn.fetch(
                    "SELECT DISTINCT key FROM documents WHERE key = ANY($1::text[])", list(keys))}
            finally:
                await conn.close()

        # Plus one orphan made on purpose, as the kill makes one when it lands between PUT and commit: some runs'
        # kills leave none, and the sweep's removal must be checked in every run.
        planted = (await env.store.put(one_chunk(scan_pdf(MB)), max_bytes=2 * MB)).key
        later = datetime.now(UTC) + MIN_GRACE + timedelta(minutes=1)
        report = await sweep_orphans(env.store, referenced, grace=MIN_GRACE, now=later)
        assert set(report.removed_keys) == orphans | {planted}
        assert await listing(env.store) == referenced_keys

        # The failed uploads sent again with the same key: one document each (201, or 200 for a row the kill
        # committed unanswered); sent once more, the same document is answered again.
        first_ids: dict[str, str | None] = {}
        resent: dict[int | None, int] = {200: 0, 201: 0}
        for scan in failed:
            await send(client, base, scan)
            assert scan.status in (200, 201), f"{scan.key}: {scan.status}"
            # 200 (replayed) exactly for a row the kill committed unanswered; 201 for the others.
            assert (scan.status == 200) == (scan.key in committed_unanswered), scan.key
            resent[scan.status] += 1
            first_ids[scan.key] = scan.document_id
        replayed = 0
        for scan in failed:
            await send(client, base, scan)
            assert scan.status == 200 and scan.document_id == first_ids[scan.key]
            replayed += 1
        await check_manifest(client, base, created + failed)
        found, listed = await check_no_dangling(env)
        assert sorted(r["idempotency_key"] for r in found) == sorted(s.key for s in scans)  # one row per upload
        assert listed == {r["key"] for r in found}

    print(
        f"\nupload chaos: {DOSSIERS} dossiers, {UPLOADS} uploads of 1–3 MB ({CONCURRENCY} at once); SIGKILL after "
        f"{KILL_AFTER} × 201: {len(created)} × 201 in all ({late_201} read after the kill), {killed_in_flight} "
        f"killed in flight, {len(failed) - killed_in_flight} not started; {len(committed_unanswered)} committed "
        f"but unanswered; {len(orphans)} orphan object(s) in the bucket, swept with 1 planted: {report.removed} "
        f"(+{report.removed_temp} spool files); {len(failed)} re-sent with their key: {resent[201]} × 201, "
        f"{resent[200]} × 200 replayed, then {replayed} × 200 on a repeat; {len(found)} rows, 0 dangling; "
        f"{time.monotonic() - started:.1f}s"
    )
