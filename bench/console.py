"""Work-queue page benchmark: the console's `/queue` for a ward with N open cases (default 10,000).

Processing runs as a process on a scratch PostgreSQL database filled with N open cases held by the ward (the
sweep benchmark's `fill`), intake beside it (the console reads its procedure catalogue for the steps' roles);
the console runs as a process in front of them; a signed-in desk officer's browser is
played by httpx, one request at a time. Printed: p50 / p95 / p99 of the whole page (console → processing →
HTML) for the first page, a deep page and a filter, and of processing's `GET /cases` alone, so the console's
own share shows. Figures only.

    ONESTOP_KAFKA_BOOTSTRAP=localhost:19092 .venv/bin/python bench/console.py --cases 10000 --requests 300
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
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

from bench.common import drop_database, percentile, table, write
from bench.sweep import PG, WARD, FixedClock, fill
from libs.auth import issue_token
from libs.db import upgrade
from libs.settings import CommonSettings
from services.processing.app import assemble
from services.processing.settings import ProcessingSettings
from tests.support.kafka import start_groups_at_end
from tests.support.processes import wait_http_ok

ROOT = Path(__file__).resolve().parents[1]
INTAKE_PORT, PROCESSING_PORT, CONSOLE_PORT = 18301, 18302, 18300
KAFKA = os.environ.get("ONESTOP_KAFKA_BOOTSTRAP", "localhost:19092")


async def empty_database(label: str) -> tuple[str, str]:
    name = f"onestop_bconsole_{label}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return name, f"postgresql+asyncpg://onestop:onestop@127.0.0.1:5432/{name}"


async def filled_database(n: int) -> tuple[str, str, float]:
    name = f"onestop_bconsole_{uuid.uuid4().hex[:6]}"
    url = f"postgresql+asyncpg://onestop:onestop@127.0.0.1:5432/{name}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    now = datetime.now(UTC)
    processing = assemble(ProcessingSettings(database_url=url), common=CommonSettings(), clock=FixedClock(now))
    await upgrade(processing.rt.engine, processing.rt.migrations)
    t0 = time.perf_counter()
    await fill(processing, n, now)
    await processing.rt.engine.dispose()
    return name, url, time.perf_counter() - t0


def start(module: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", module], cwd=ROOT, env={**os.environ, **env},
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


async def signed_in(base: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=30)
    form = await client.get("/sign-in")
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = await client.post("/sign-in", data={"username": "ward.desk", "password": "motcua-ward-2026",
                                            "csrf_token": token, "next": "/queue"})
    assert r.status_code == 303, r.text
    return client


async def timed(client: httpx.AsyncClient, path: str, n: int, **kwargs: Any) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = await client.get(path, **kwargs)
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return out


def figures(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "p99_ms": percentile(ms, 99)}


async def main(n: int, requests: int) -> int:
    name, url, fill_s = await filled_database(n)
    intake_db, intake_url = await empty_database("intake")  # the procedure catalogue (steps' roles) comes from it
    run = Path(tempfile.mkdtemp(prefix="onestop-bconsole-"))
    group = f"onestop-processing-bconsole-{uuid.uuid4().hex[:6]}"
    intake_group = f"onestop-intake-bconsole-{uuid.uuid4().hex[:6]}"
    await start_groups_at_end(KAFKA, {group: ("onestop.intake.v1",), intake_group: ("onestop.processing.v1",)})
    procs = {
        "intake": start("services.intake", {
            "ONESTOP_INTAKE_DATABASE_URL": intake_url, "ONESTOP_INTAKE_PORT": str(INTAKE_PORT),
            "ONESTOP_INTAKE_CONSUMER_GROUP": intake_group, "ONESTOP_KAFKA_BOOTSTRAP": KAFKA,
            "ONESTOP_RUN_DIR": str(run)}, run / "intake.log"),
        "processing": start("services.processing", {
            "ONESTOP_PROCESSING_DATABASE_URL": url, "ONESTOP_PROCESSING_PORT": str(PROCESSING_PORT),
            "ONESTOP_PROCESSING_CONSUMER_GROUP": group, "ONESTOP_PROCESSING_SWEEP_SECONDS": "3600",
            "ONESTOP_KAFKA_BOOTSTRAP": KAFKA, "ONESTOP_RUN_DIR": str(run)}, run / "processing.log"),
        "console": start("services.console", {
            "ONESTOP_CONSOLE_PORT": str(CONSOLE_PORT),
            "ONESTOP_CONSOLE_PROCESSING_URL": f"http://127.0.0.1:{PROCESSING_PORT}",
            "ONESTOP_CONSOLE_INTAKE_URL": f"http://127.0.0.1:{INTAKE_PORT}",
            "ONESTOP_RUN_DIR": str(run)}, run / "console.log"),
    }
    results: dict[str, Any] = {"cases": n, "requests_each": requests, "fill_s": fill_s}
    try:
        await wait_http_ok("processing", procs["processing"], f"http://127.0.0.1:{PROCESSING_PORT}/readyz",
                           run / "processing.log", 90)
        await wait_http_ok("intake", procs["intake"], f"http://127.0.0.1:{INTAKE_PORT}/readyz", run / "intake.log", 90)
        await wait_http_ok("console", procs["console"], f"http://127.0.0.1:{CONSOLE_PORT}/readyz",
                           run / "console.log", 60)
        client = await signed_in(f"http://127.0.0.1:{CONSOLE_PORT}")
        token = issue_token("ward.desk", ["desk_officer"], WARD, CommonSettings().jwt_secret)
        api = httpx.AsyncClient(base_url=f"http://127.0.0.1:{PROCESSING_PORT}/api/v1", timeout=30,
                                headers={"Authorization": f"Bearer {token}"})
        await timed(client, "/queue", 20)  # warm-up: connections, template compilation, PostgreSQL caches
        last_page = n // 20
        runs = {
            "queue page 1": await timed(client, "/queue", requests),
            f"queue page {last_page // 2}": await timed(client, "/queue", requests, params={"page": last_page // 2}),
            "queue due soon (htmx fragment)": await timed(client, "/queue", requests, params={"due": "soon"},
                                                          headers={"HX-Request": "true"}),
            "processing GET /cases alone": await timed(api, "/cases", requests, params={"held": "true", "limit": 21}),
        }
        await client.aclose()
        await api.aclose()
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(20)
        admin = await asyncpg.connect(f"{PG}/postgres")
        for db in (name, intake_db):
            await drop_database(admin, db)
        await admin.close()
    rows = [("open cases held by the ward", f"{n} (filled in {fill_s:.1f} s)")]
    for label, ms in runs.items():
        f = figures(ms)
        results[label] = f
        rows.append((f"{label}: p50 / p95 / p99 ms", f"{f['p50_ms']:.1f} / {f['p95_ms']:.1f} / {f['p99_ms']:.1f}"))
    print(table(f"console work queue ({requests} sequential requests each)", rows))
    print(f"wrote {write('console', results)}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.cases, args.requests)))
