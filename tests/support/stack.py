"""The four services as real processes for end-to-end tests (own ports, own PostgreSQL databases)."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from libs.contracts import topics
from onestop.registry import NAMES
from tests.support.kafka import start_groups_at_end
from tests.support.processes import wait_http_ok

ROOT = Path(__file__).resolve().parents[2]
SERVICES = NAMES
CONSUMES: dict[str, tuple[str, ...]] = {
    "intake": (topics.PROCESSING,), "processing": (topics.INTAKE,),
    "notifications": (topics.INTAKE, topics.PROCESSING), "reporting": (topics.INTAKE, topics.PROCESSING),
}
BASE_PORT = int(os.environ.get("ONESTOP_E2E_BASE_PORT", "18000"))  # services on BASE_PORT + 1 … + 4
INSTANCE_STRIDE = 10  # a second instance of a service listens 10 ports above the first


def instance_key(service: str, instance: int = 1) -> str:
    """The key of one process in `Stack.procs` (and its log's name): the service's name for the first."""
    return service if instance == 1 else f"{service}-{instance}"


@dataclass
class Stack:
    run_dir: Path
    kafka: str
    db_urls: dict[str, str]
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # Raw personal data the tests posted; none of it may appear in any service log (checked at the end).
    sensitive: set[str] = field(default_factory=set)
    # Consumer groups of this stack only: its fresh databases must not inherit another stack's offsets.
    group_suffix: str = field(default_factory=lambda: secrets.token_hex(4))

    def group(self, service: str) -> str:
        return f"onestop-{service}-{self.group_suffix}"

    @staticmethod
    def port(service: str) -> int:
        return BASE_PORT + 1 + SERVICES.index(service)

    def instance_port(self, service: str, instance: int = 1) -> int:
        """Instance 1 on `port(service)`; instance n on INSTANCE_STRIDE × (n − 1) above it."""
        return self.port(service) + INSTANCE_STRIDE * (instance - 1)

    def url(self, service: str, instance: int = 1) -> str:
        return f"http://127.0.0.1:{self.instance_port(service, instance)}"

    def log(self, service: str, instance: int = 1) -> Path:
        return self.run_dir / "logs" / f"{instance_key(service, instance)}.log"

    def env(self, service: str, overrides: dict[str, str] | None = None, instance: int = 1) -> dict[str, str]:
        prefix = f"ONESTOP_{service.upper()}_"
        return {
            **os.environ,
            "ONESTOP_KAFKA_BOOTSTRAP": self.kafka,
            "ONESTOP_RUN_DIR": str(self.run_dir),
            "ONESTOP_CLOCK": "controlled",  # one shared clock file; tests may jump days
            f"{prefix}PORT": str(self.instance_port(service, instance)),
            f"{prefix}DATABASE_URL": self.db_urls[service],
            # Every instance of a service in the one group: they share the topics' partitions.
            f"{prefix}CONSUMER_GROUP": self.group(service),
            # The tests (and the console) stand in for citizens behind a proxy on this host: intake believes
            # X-Forwarded-For from 127.0.0.1 only (its look-up limit is per citizen address).
            **({"ONESTOP_INTAKE_TRUSTED_PROXIES": "127.0.0.1"} if service == "intake" else {}),
            **self.extra_env,
            **(overrides or {}),
        }

    def start(self, service: str, overrides: dict[str, str] | None = None, instance: int = 1) -> None:
        """Start one process of `service`; `instance` > 1 runs another on its own port, log and pid, on the
        same database and consumer group (two of a service, as a Deployment with two replicas would)."""
        port = self.instance_port(service, instance)
        if _listening(port):  # else /readyz would be answered by someone else's process
            raise RuntimeError(f"port {port} for {service} is taken (another stack or bench running?)")
        self.log(service, instance).parent.mkdir(parents=True, exist_ok=True)
        out = self.log(service, instance).open("ab")
        self.procs[instance_key(service, instance)] = subprocess.Popen(
            [sys.executable, "-m", f"services.{service}"], cwd=ROOT, env=self.env(service, overrides, instance),
            stdout=out, stderr=subprocess.STDOUT,
        )

    def kill9(self, service: str, instance: int = 1) -> None:
        proc = self.procs.pop(instance_key(service, instance))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()

    async def wait_ready(self, service: str, timeout: float = 60, instance: int = 1) -> None:
        key = instance_key(service, instance)
        await wait_http_ok(key, self.procs[key], f"{self.url(service, instance)}/readyz",
                           self.log(service, instance), timeout)

    async def clock(self, *, set_to: str | None = None, advance_seconds: float | None = None) -> str:
        """Move the one clock all four processes share (they run with ONESTOP_CLOCK=controlled)."""
        body = {"set": set_to} if set_to else {"advance_seconds": advance_seconds}
        async with httpx.AsyncClient() as client:
            r = await client.post(f"{self.url('intake')}/admin/clock", json=body, timeout=5)
            r.raise_for_status()
            return str(r.json()["now"])

    def logs_containing(self, values: set[str]) -> dict[str, list[str]]:
        """{log file: the values found in it} over every service log of this run."""
        found: dict[str, list[str]] = {}
        for path in sorted((self.run_dir / "logs").glob("*.log")):
            text = path.read_text(encoding="utf-8", errors="replace")
            if hits := sorted(v for v in values if v in text):
                found[path.name] = hits
        return found

    async def start_all(self) -> None:
        present = [s for s in SERVICES if s in self.db_urls]
        await start_groups_at_end(self.kafka, {self.group(s): CONSUMES[s] for s in present if CONSUMES[s]})
        for service in SERVICES:
            self.start(service)
        for service in SERVICES:
            await self.wait_ready(service)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


async def eventually(check, timeout: float = 10.0, interval: float = 0.2):  # type: ignore[no-untyped-def]
    """Poll an async check until it returns a truthy value; the last value or error explains a failure."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: object = None
    while True:
        try:
            last = await check()
            if last:
                return last
        except (AssertionError, httpx.HTTPError, KeyError) as exc:
            last = exc
        if asyncio.get_running_loop().time() >= deadline:
            raise AssertionError(f"not true within {timeout}s; last: {last!r}")
        await asyncio.sleep(interval)
