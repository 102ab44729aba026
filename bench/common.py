"""Helpers the benchmark scripts share: result tables and JSON files (figures, never assertions)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def table(title: str, rows: list[tuple[str, Any]]) -> str:
    width = max(len(k) for k, _ in rows)
    lines = [title, "-" * len(title)] + [f"{k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(lines)


def write(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"name": name, "at": datetime.now(UTC).isoformat(), "machine": platform.node(), **figures}
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path


def rss_peak_mb(pid: int) -> float:
    """Peak resident set size of a live process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a live process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def infra_pids(kafka_port: int) -> dict[str, list[int]]:
    """The PostgreSQL processes (postmaster and backends) and the Kafka broker listening on `kafka_port`
    (the test suite's broker may run beside it)."""
    found: dict[str, list[int]] = {"postgresql": [], "kafka": []}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            comm = (proc / "comm").read_text().strip()
        except OSError:  # gone meanwhile
            continue
        if comm == "postgres" or cmd.startswith(b"postgres:"):
            found["postgresql"].append(int(proc.name))
        elif b"kafka.Kafka" in cmd and _listens_on(cmd, kafka_port):
            found["kafka"].append(int(proc.name))
    return found


def _listens_on(cmd: bytes, port: int) -> bool:
    properties = Path(cmd.split()[-1].decode())  # kafka.Kafka <server.properties>
    try:
        return f":{port}" in properties.read_text()
    except OSError:
        return False


def infra_cpu(kafka_port: int) -> dict[str, dict[int, float]]:
    """CPU seconds so far of each PostgreSQL and Kafka process, by pid."""
    out: dict[str, dict[int, float]] = {}
    for name, pids in infra_pids(kafka_port).items():
        out[name] = {}
        for pid in pids:
            try:
                out[name][pid] = cpu_seconds(pid)
            except OSError:  # ended meanwhile
                continue
    return out


def infra_cpu_since(before: dict[str, dict[int, float]], kafka_port: int) -> dict[str, float]:
    """CPU seconds each of PostgreSQL and Kafka used since `before` (processes started meanwhile count whole;
    a backend that ended meanwhile loses its share, so the figure is a lower bound)."""
    now = infra_cpu(kafka_port)
    return {name: sum(cpu - before.get(name, {}).get(pid, 0.0) for pid, cpu in pids.items())
            for name, pids in now.items()}


def _pg_role(pid: int) -> str:
    """'autovacuum' for autovacuum workers, 'pg other' for the rest of PostgreSQL's own processes and
    backends alike (the process title says which)."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "pg other"
    return "autovacuum" if b"autovacuum worker" in title else "pg other"


async def sample_cpu(services: dict[str, int], kafka_port: int, into: list[dict[str, float]],
                     period: float = 1.0) -> None:
    """Until cancelled: every `period` s, the share of a core each service, Kafka, autovacuum and the rest
    of PostgreSQL used in it. Shows whether a latency spike lines up with one process's burst."""
    def now() -> dict[tuple[str, int], float]:
        seen: dict[tuple[str, int], float] = {}
        for name, pid in services.items():
            with contextlib.suppress(OSError):
                seen[(name, pid)] = cpu_seconds(pid)
        for name, pids in infra_cpu(kafka_port).items():
            for pid, cpu in pids.items():
                seen[(_pg_role(pid) if name == "postgresql" else name, pid)] = cpu
        return seen

    before, t = now(), time.monotonic()
    while True:
        await asyncio.sleep(period)
        after, t2 = now(), time.monotonic()
        shares: dict[str, float] = {}
        for (name, pid), cpu in after.items():
            shares[name] = shares.get(name, 0.0) + (cpu - before.get((name, pid), 0.0)) / (t2 - t)
        into.append({k: round(v, 2) for k, v in sorted(shares.items())})
        before, t = after, t2


async def drop_database(admin: Any, name: str) -> None:
    """DROP … WITH (FORCE), retried: an autovacuum worker busy on the scratch database after mass updates
    cannot be terminated by a non-superuser (InsufficientPrivilege) and only needs a moment to finish."""
    for attempt in range(60):
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except Exception as exc:  # asyncpg's error classes; the last attempt reports it
            if attempt == 59:
                print(f"could not drop scratch database {name}: {exc}")
            await asyncio.sleep(1)
