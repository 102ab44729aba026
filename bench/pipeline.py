"""Pipeline benchmark: N dossiers posted to intake at a target rate (open loop), all four services on the
real Kafka and PostgreSQL; latency from intake's HTTP response to the dossier.received event being applied
by processing (case opened), notifications (notice recorded) and reporting (counted), read afterwards from
each consumer's inbox (`applied_at` of that event's ce_id). Plus a baseline in the same run: raw aiokafka
consume → produce of the same number of same-size events through the same broker.

    .venv/bin/python bench/pipeline.py --rate 200 --seconds 120
    .venv/bin/python bench/pipeline.py --find-sustainable     # this machine's sustainable rate, then 2× it
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
import asyncpg
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import profile
from bench.baseline import kafka_roundtrip
from bench.common import (
    cpu_seconds,
    drop_database,
    infra_cpu,
    infra_cpu_since,
    percentile,
    rss_peak_mb,
    sample_cpu,
    table,
    write,
)
from libs.auth import issue_token
from libs.settings import CommonSettings
from tests.support.stack import SERVICES, Stack

PG = "postgresql://onestop:onestop@127.0.0.1:5432"
JSON_BODY = {"Content-Type": "application/json"}
# The services reach PostgreSQL on this same machine through its Unix socket when there is one (pg.sh puts it
# in the run folder): a TCP round trip over loopback costs both sides more CPU for nothing here.
SOCKET_DIR = Path(os.environ.get("ONESTOP_RUN_DIR", Path(__file__).resolve().parents[1] / ".run")) / "postgres"
WARD = "000.00.12.H55"
CONSUMERS = ("processing", "notifications", "reporting")


class Posted(NamedTuple):
    sent: dict[str, datetime]  # dossier id → when its 201 came back
    elapsed: float
    errors: int
    client_cpu_ms: float  # the load generator's CPU per request
    answers: list[tuple[int, float]]  # (HTTP status or 0, seconds to the answer) of every request


def body(i: int) -> dict[str, Any]:
    return {
        "procedure_code": "2.000815", "channel": ("in_person", "online", "post")[i % 3],
        "applicant": {"full_name": f"Công dân {i}", "personal_id": "019190001234", "phone": "0912345678",
                      "email": f"citizen{i}@example.vn"},
        "documents": [{"name": "Bản chính", "digitised": True}],
    }


async def create_dbs(run: str) -> dict[str, str]:
    admin = await asyncpg.connect(f"{PG}/postgres")
    urls = {}
    for s in SERVICES:
        await admin.execute(f'CREATE DATABASE "onestop_b{run}_{s}"')
        urls[s] = (f"postgresql+asyncpg://onestop:onestop@/onestop_b{run}_{s}?host={SOCKET_DIR}"
                   if (SOCKET_DIR / ".s.PGSQL.5432").exists()
                   else f"postgresql+asyncpg://onestop:onestop@127.0.0.1:5432/onestop_b{run}_{s}")
    await admin.close()
    return urls


async def statements_per_dossier(run: str, dossiers: int) -> dict[str, dict[str, Any]]:
    """Database round trips each service spent per dossier (pg_stat_statements, when the cluster loads it)."""
    admin = await asyncpg.connect(f"{PG}/postgres")
    try:
        await admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        rows = await admin.fetch(
            "SELECT d.datname, sum(s.calls) AS calls, sum(s.total_exec_time) AS ms FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname LIKE $1 GROUP BY d.datname", f"onestop_b{run}_%")
        top = await admin.fetch(
            "SELECT d.datname, s.calls, s.total_exec_time AS ms, left(s.query, 90) AS query FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname LIKE $1 ORDER BY s.total_exec_time DESC",
            f"onestop_b{run}_%")
    except asyncpg.PostgresError:  # the library is not preloaded: figures left out
        return {}
    finally:
        await admin.close()
    n = max(1, dossiers)
    out: dict[str, dict[str, Any]] = {
        r["datname"].rsplit("_", 1)[1]: {"statements": float(r["calls"]) / n, "db_ms": float(r["ms"]) / n, "top": []}
        for r in rows}
    for r in top:  # the statements PostgreSQL spent most time on, per dossier
        entry = out[r["datname"].rsplit("_", 1)[1]]
        if len(entry["top"]) < 12:
            entry["top"].append(f"{r['ms'] / n:.3f} ms {r['calls'] / n:.2f}×  {' '.join(r['query'].split())}")
    return out


async def drop_dbs(run: str) -> None:
    admin = await asyncpg.connect(f"{PG}/postgres")
    for s in SERVICES:
        await drop_database(admin, f"onestop_b{run}_{s}")
    await admin.close()


async def post_open_loop(stack: Stack, n: int, rate: float, first: int = 0) -> Posted:
    """Fire request i at t0 + i/rate whatever the earlier ones are doing; returns id → response time, and
    every request's (status, seconds to its answer) — status 0 for a client time-out or a broken connection.

    The generator shares the two cores with what it measures, where real requests come from other machines,
    so it is kept cheap: aiohttp rather than httpx (a third of the CPU per request), on uvloop, bodies
    encoded before the clock starts (its own CPU per request is reported)."""
    token = issue_token("bench", ["desk_officer"], WARD, CommonSettings().jwt_secret)
    done: dict[str, datetime] = {}
    answers: list[tuple[int, float]] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(base_url=stack.url("intake"), connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30),
                                     headers={"Authorization": f"Bearer {token}"}) as client:

        async def one(i: int) -> None:
            nonlocal errors
            asked = time.perf_counter()
            try:
                async with client.post("/api/v1/dossiers", data=bodies[i], headers=JSON_BODY) as r:
                    if r.status == 201:
                        done[(await r.json())["id"]] = datetime.now(UTC)
                    else:
                        errors += 1
                    answers.append((r.status, time.perf_counter() - asked))
            except (aiohttp.ClientError, TimeoutError):  # counted, not fatal: the figure is what got through
                errors += 1
                answers.append((0, time.perf_counter() - asked))

        bodies = [json.dumps(body(first + i) | {"receiving_agency": WARD}).encode() for i in range(n)]
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        tasks = []
        for i in range(n):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
    return Posted(done, elapsed, errors, 1000 * (time.process_time() - cpu0) / max(1, n), answers)


async def applied_latencies(urls: dict[str, str], sent: dict[str, datetime], timeout: float
                            ) -> dict[str, list[tuple[datetime, float]]]:
    """(HTTP response, seconds from it to the consumer's commit of that dossier's received event) per service."""
    intake = await asyncpg.connect(urls["intake"].replace("+asyncpg", ""))
    rows = await intake.fetch("SELECT key, event_id FROM outbox WHERE event_type = 'vn.onestop.dossier.received.v1'")
    await intake.close()
    event_of = {r["key"]: r["event_id"] for r in rows if r["key"] in sent}
    out: dict[str, list[tuple[datetime, float]]] = {}
    deadline = time.monotonic() + timeout
    for service in CONSUMERS:
        conn = await asyncpg.connect(urls[service].replace("+asyncpg", ""))
        while True:
            got = await conn.fetch("SELECT event_id, applied_at FROM inbox WHERE event_id = ANY($1::text[])",
                                   list(event_of.values()))
            if len(got) >= len(event_of) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        await conn.close()
        applied = {r["event_id"]: r["applied_at"] for r in got}
        out[service] = [(sent[k], (applied[e] - sent[k]).total_seconds()) for k, e in event_of.items() if e in applied]
    # The first leg on its own: when intake's relay claimed the event for Kafka (all are out by now).
    intake = await asyncpg.connect(urls["intake"].replace("+asyncpg", ""))
    rows = await intake.fetch("SELECT key, published_at FROM outbox WHERE event_type = 'vn.onestop.dossier.received.v1'"
                              " AND published_at IS NOT NULL")
    await intake.close()
    out = {"intake relay": [(sent[r["key"]], (r["published_at"] - sent[r["key"]]).total_seconds())
                            for r in rows if r["key"] in sent]} | out
    return out


def timeline(pairs: list[tuple[datetime, float]], start: datetime, step: float = 5.0) -> list[list[float]]:
    """[second into the run, p99, max] of the latencies of the dossiers answered in each `step` seconds: a
    tail that comes in waves points at something periodic (a sweep, a checkpoint), a rising one at a backlog."""
    buckets: dict[int, list[float]] = {}
    for at, value in pairs:
        buckets.setdefault(int((at - start).total_seconds() // step), []).append(value)
    return [[k * step, round(percentile(v, 99), 3), round(max(v), 3)] for k, v in sorted(buckets.items())]


def bench_stack(urls: dict[str, str], prefix: str) -> Stack:
    """The four services on their bench databases. One INFO line per applied event is the audit trail in
    production; here it would be what we measure. The system clock, as in production (the tests' stack
    shares a controlled clock file instead)."""
    return Stack(run_dir=Path(tempfile.mkdtemp(prefix=prefix)), kafka=CommonSettings().kafka_bootstrap,
                 db_urls=urls, extra_env={"ONESTOP_LOG_LEVEL": "WARNING", "ONESTOP_CLOCK": "system"})


async def main(n: int, rate: float, profile_dir: Path | None = None) -> None:
    run = uuid.uuid4().hex[:6]
    urls = await create_dbs(run)
    stack = bench_stack(urls, "onestop-bench-")
    try:
        await stack.start_all()
        cpu0 = {s: cpu_seconds(stack.procs[s].pid) for s in SERVICES}
        kafka_port = int(CommonSettings().kafka_bootstrap.rsplit(":", 1)[1])
        infra0 = infra_cpu(kafka_port)
        spies = _spy(stack, profile_dir, n / rate) if profile_dir else []
        cpu_timeline: list[dict[str, float]] = []
        sampler = asyncio.create_task(sample_cpu({s: stack.procs[s].pid for s in SERVICES}, kafka_port, cpu_timeline))
        sent, elapsed, errors, client_cpu, _ = await post_open_loop(stack, n, rate)
        for spy in spies:
            spy.wait()
        lat = await applied_latencies(urls, sent, timeout=120)
        sampler.cancel()
        await asyncio.sleep(5)  # let the notices of the last dossiers go out too
        rss = {s: rss_peak_mb(stack.procs[s].pid) for s in SERVICES}
        cpu_ms = {s: 1000 * (cpu_seconds(stack.procs[s].pid) - cpu0[s]) / max(1, len(sent)) for s in SERVICES}
        cpu_ms |= {s: 1000 * v / max(1, len(sent)) for s, v in infra_cpu_since(infra0, kafka_port).items()}
        statements = await statements_per_dossier(run, len(sent))
    finally:
        stack.stop_all()
        await drop_dbs(run)
    base = await kafka_roundtrip(CommonSettings().kafka_bootstrap, n, size=1200)
    rows: list[tuple[str, Any]] = [
        ("dossiers posted (target rate)", f"{n} at {rate:.0f}/s"),
        ("accepted / errors", f"{len(sent)} / {errors}"),
        ("sustained receipts/s", f"{len(sent) / elapsed:.1f}"),
    ]
    figures: dict[str, Any] = {"n": n, "target_rate": rate, "accepted": len(sent), "errors": errors,
                               "receipts_per_s": len(sent) / elapsed, "rss_peak_mb": rss, "baseline": base,
                               "cpu_ms_per_dossier": cpu_ms | {"load_generator": client_cpu},
                               "db_per_dossier": statements, "cpu_timeline_per_s": cpu_timeline}
    start = min(sent.values(), default=datetime.now(UTC))
    for service, pairs in lat.items():
        values = [v for _, v in pairs]
        p = {q: percentile(values, q) for q in (50, 95, 99)}
        figures[f"latency_{service.replace(' ', '_')}_s"] = p | {
            "applied": len(values), "timeline_p99_max": timeline(pairs, start)}
        verb = "published" if service == "intake relay" else "applied"
        rows.append((f"→ {service} {verb} p50/p95/p99 s", f"{p[50]:.3f} / {p[95]:.3f} / {p[99]:.3f}  ({len(values)})"))
    rows += [(f"peak RSS {s} MB", f"{v:.0f}") for s, v in rss.items()]
    rows += [(f"CPU ms per dossier, {s}", f"{v:.1f}") for s, v in cpu_ms.items()]
    rows.append(("CPU ms per request, load generator", f"{client_cpu:.1f}"))
    rows += [(f"SQL statements (exec ms) per dossier, {s}", f"{v['statements']:.1f} ({v['db_ms']:.2f})")
             for s, v in statements.items()]
    rows.append(("baseline aiokafka consume→produce/s", f"{base['events_per_s']:.0f}"))
    rows.append(("pipeline / broker path", f"{(len(sent) / elapsed) / base['events_per_s']:.4f}"))
    print(table("pipeline", rows))
    print(f"wrote {write('pipeline', figures)}")
    if profile_dir:
        print(profile.summaries(profile_dir))


def _spy(stack: Stack, out: Path, seconds: float) -> list[Any]:
    out.mkdir(parents=True, exist_ok=True)
    return [profile.record(stack.procs[s].pid, out / f"{s}.txt", seconds) for s in SERVICES]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--profile", type=Path, help="record each service with py-spy into this folder")
    parser.add_argument("--find-sustainable", action="store_true",
                        help="find this machine's sustainable rate, then offer twice it (bench/capacity.py)")
    args = parser.parse_args()
    if args.find_sustainable:
        from bench import capacity

        sys.argv = [sys.argv[0]]
        uvloop.run(capacity.main(capacity.parser().parse_args([])))
    else:
        uvloop.run(main(int(args.rate * args.seconds), args.rate, args.profile))
