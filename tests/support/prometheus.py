"""A real Prometheus (Debian's binary) scraping the test stack, with the shipped rules loaded."""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.processes import wait_http_ok

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape_config(targets: dict[str, int], interval: str = "1s") -> dict[str, Any]:
    """Job `onestop`, one target per service with its `service` label, as deploy/prometheus/prometheus.yml."""
    return {
        "global": {"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": interval},
        "rule_files": [str(RULES / "*.yml")],
        "scrape_configs": [{
            "job_name": "onestop",
            "metrics_path": "/metrics",
            "static_configs": [
                {"targets": [f"127.0.0.1:{port}"], "labels": {"service": service}}
                for service, port in targets.items()
            ],
        }],
    }


@dataclass
class Prometheus:
    workdir: Path
    targets: dict[str, int]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / "prometheus.log"

    def launch(self) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            raise RuntimeError("prometheus not on PATH: deploy/local/prometheus/prom.sh install")
        config = self.workdir / "prometheus.yml"
        config.write_text(yaml.safe_dump(scrape_config(self.targets)), encoding="utf-8")
        self.proc = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={self.workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1h"],
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )

    async def wait_ready(self, timeout: float = 30) -> None:
        assert self.proc is not None, "launch() first"
        await wait_http_ok("prometheus", self.proc, f"{self.url}/-/ready", self.log, timeout)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    async def api(self, path: str, **params: str) -> Any:
        async with httpx.AsyncClient(timeout=10) as client:
            r = await client.get(f"{self.url}/api/v1/{path}", params=params)
            r.raise_for_status()
            body = r.json()
        assert body["status"] == "success", body
        return body["data"]

    async def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector `promql` evaluates to now: [{"metric": {...}, "value": [t, "v"]}, …]."""
        data = await self.api("query", query=promql)
        assert data["resultType"] == "vector", data
        return list(data["result"])

    async def scalar(self, promql: str) -> float | None:
        result = await self.query(promql)
        return float(result[0]["value"][1]) if result else None
