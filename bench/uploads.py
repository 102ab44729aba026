"""Scan uploads through intake (issue 17): N PDFs of 1 MB posted to intake's HTTP route, C at once, with intake
a real process on PostgreSQL storing into S3Proxy (the test server on port 19000, started if not running), then
the same against the folder store; uploads/s and MB/s, intake's CPU per upload. Then the cost a manifest adds to
the pipeline: the CPU of encoding and decoding a `supplement_submitted` event with 10 scans in its manifest
against one with none (libs/contracts), per dossier. Figures only, nothing asserted.

    ONESTOP_KAFKA_BOOTSTRAP=localhost:19092 .venv/bin/python bench/uploads.py --uploads 200 --concurrency 4
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import cpu_seconds, drop_database, table, write
from bench.storage import PORT, ensure_s3proxy
from libs.auth import issue_token
from libs.contracts import Envelope, decode, encode
from libs.contracts.common import Digitisation, DocumentManifest, DocumentSummary
from libs.contracts.intake import SupplementSubmitted
from libs.settings import CommonSettings
from libs.storage import S3ObjectStore
from tests.support.kafka import start_groups_at_end
from tests.support.stack import CONSUMES, SERVICES, Stack

MB = 1024 * 1024
PG = os.environ.get("ONESTOP_TEST_PG", "postgresql://onestop:onestop@127.0.0.1:5432/postgres")
KAFKA = os.environ.get("ONESTOP_KAFKA_BOOTSTRAP", "localhost:19092")
WARD = "000.00.21.H55"
PROCEDURE = "1.001193"  # three papers on its checklist
S3 = f"http://127.0.0.1:{PORT}"


class BenchStack(Stack):
    """Intake alone on a port of its own (the tests' stacks use 18000, 18300, 18400, 18600)."""

    @staticmethod
    def port(service: str) -> int:
        return 18700 + 1 + SERVICES.index(service)


def auth(key: str | None = None) -> dict[str, str]:
    token = issue_token("bench-upload", ["desk_officer"], WARD, CommonSettings().jwt_secret)
    return {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}


def pdf(size: int) -> bytes:
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    return head + os.urandom(size - len(head) - 7) + b"\n%%EOF\n"


async def upload_run(backend: str, uploads: int, concurrency: int) -> dict[str, float]:
    """One intake process on a fresh database and store; the uploads spread over dossiers of at most 30 scans
    (the 100 MB a dossier may hold)."""
    admin = await asyncpg.connect(PG)
    name = f"onestop_bench_uploads_{secrets.token_hex(3)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = PG.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}"
    run_dir = Path(tempfile.mkdtemp(prefix="onestop-bench-uploads-"))
    bucket = f"onestop-bench-{uuid.uuid4().hex[:10]}"
    env = {"ONESTOP_CLOCK": "system", "ONESTOP_LOG_LEVEL": "WARNING", "ONESTOP_STORAGE_BACKEND": backend,
           "ONESTOP_STORAGE_FOLDER": str(run_dir / "documents"), "ONESTOP_STORAGE_SPOOL_DIR": str(run_dir / "spool"),
           "ONESTOP_STORAGE_S3_ENDPOINT": S3, "ONESTOP_STORAGE_S3_BUCKET": bucket,
           "ONESTOP_INTAKE_DOCUMENTS_SWEEP_ENABLED": "false"}
    stack = BenchStack(run_dir=run_dir, kafka=KAFKA, db_urls={"intake": url}, extra_env=env)
    store = S3ObjectStore.connect(bucket=bucket, endpoint=S3, region="us-east-1", access_key_id="onestop-dev",
                                  secret_access_key="onestop-dev-secret")
    if backend == "s3":
        await store.create_bucket()
    await start_groups_at_end(KAFKA, {stack.group("intake"): CONSUMES["intake"]})
    base = stack.url("intake")
    try:
        stack.start("intake")
        await stack.wait_ready("intake")
        async with httpx.AsyncClient(timeout=60) as client:
            codes = []
            for i in range(-(-uploads // 30)):
                r = await client.post(f"{base}/api/v1/dossiers", headers=auth(), json={
                    "procedure_code": PROCEDURE, "channel": "in_person",
                    "applicant": {"full_name": "Nguyễn Thị Lan", "personal_id": f"0191900{i:05d}",
                                  "phone": "0912345678"}})
                r.raise_for_status()
                codes.append(r.json()["code"])
            bodies = [pdf(MB) for _ in range(uploads)]  # distinct bytes: each a real upload, no dedup
            queue = list(reversed(range(uploads)))
            statuses: dict[int, int] = {}

            async def worker() -> None:
                while queue:
                    n = queue.pop()
                    r = await client.post(f"{base}/api/v1/dossiers/{codes[n // 30]}/documents",
                                          params={"item": n % 3 + 1}, content=bodies[n],
                                          headers={**auth(uuid.uuid4().hex), "Content-Type": "application/pdf"})
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

            pid = stack.procs["intake"].pid
            cpu0, t0 = cpu_seconds(pid), time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            seconds, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
        created = statuses.pop(201, 0)
        return {"uploads": uploads, "created": created, "other_statuses": sum(statuses.values()),
                "seconds": seconds, "uploads_per_s": uploads / seconds, "mb_per_s": uploads / seconds,  # 1 MB each
                "intake_cpu_ms_per_upload": cpu * 1000 / uploads}
    finally:
        stack.stop_all()
        if backend == "s3":
            async for info in store.list():
                await store.delete(info.key)
            await store.delete_bucket()
        await drop_database(admin, name)
        await admin.close()
        shutil.rmtree(run_dir, ignore_errors=True)  # the folder store's and the spool's megabytes


def manifest_cost(scans: int, rounds: int) -> dict[str, float]:
    """CPU (process_time) of encoding and decoding one `supplement_submitted` with `scans` manifest entries."""
    now = datetime.now(UTC)
    entries = [DocumentManifest(document_id=uuid.uuid4(), checklist_item=i % 3 + 1, item_name="Tờ khai đăng ký "
                                "khai sinh", sha256=secrets.token_hex(32), size=MB, media_type="application/pdf",
                                digitisation=Digitisation.DIGITISED, uploaded_at=now) for i in range(scans)]
    event = SupplementSubmitted(dossier_id=uuid.uuid4(), code="H55.12-261207-0001", agency=WARD, actor="can-bo-1",
                                at=now, documents=DocumentSummary(total=scans, digitised=scans), manifest=entries,
                                note="Bổ sung giấy tờ")
    envelope = Envelope.for_event(event, now)
    value = encode(event)
    assert decode(envelope, value) == event  # what is timed is a full round trip
    t0 = time.process_time()
    for _ in range(rounds):
        encode(event)
    encoded = time.process_time() - t0
    t0 = time.process_time()
    for _ in range(rounds):
        decode(envelope, value)
    decoded = time.process_time() - t0
    return {"bytes": len(value), "encode_us": encoded * 1e6 / rounds, "decode_us": decoded * 1e6 / rounds}


async def main(args: argparse.Namespace) -> None:
    ensure_s3proxy()
    results: dict[str, Any] = {"uploads": args.uploads, "concurrency": args.concurrency}
    for backend, label in (("s3", "intake -> S3Proxy"), ("folder", "intake -> folder store")):
        figures = await upload_run(backend, args.uploads, args.concurrency)
        results[backend] = figures
        print(table(f"{label}: {args.uploads} x 1 MB PDF, {args.concurrency} at once", [
            ("uploads/s", f"{figures['uploads_per_s']:.1f}"), ("MB/s", f"{figures['mb_per_s']:.1f}"),
            ("201s", f"{figures['created']} (other statuses: {figures['other_statuses']})"),
            ("intake CPU per upload", f"{figures['intake_cpu_ms_per_upload']:.1f} ms")]), end="\n\n")
    none, ten = manifest_cost(0, args.rounds), manifest_cost(10, args.rounds)
    results["manifest"] = {"none": none, "ten": ten}
    # Each event is encoded once (intake's outbox) and decoded once by each of its three consumers.
    per_dossier = (ten["encode_us"] - none["encode_us"]) + 3 * (ten["decode_us"] - none["decode_us"])
    results["manifest_cpu_us_per_dossier"] = per_dossier
    print(table(f"supplement_submitted, CPU per event ({args.rounds} rounds)", [
        ("no manifest", f"{none['bytes']} B, encode {none['encode_us']:.1f} µs, decode {none['decode_us']:.1f} µs"),
        ("10-scan manifest", f"{ten['bytes']} B, encode {ten['encode_us']:.1f} µs, decode {ten['decode_us']:.1f} µs"),
        ("added per dossier (1 encode + 3 decodes)", f"{per_dossier:.1f} µs")]))
    write("uploads", results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=200, help="1 MB PDFs per store")
    parser.add_argument("--concurrency", type=int, default=4, help="uploads in flight at once")
    parser.add_argument("--rounds", type=int, default=20000, help="encode/decode rounds per event shape")
    asyncio.run(main(parser.parse_args()))
