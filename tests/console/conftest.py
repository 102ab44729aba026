"""The console in front of the four services, all as processes, and a Debian chromium driven by Playwright.

The stack runs on its own ports (base 18100, not the e2e suite's 18000), so both suites can share one pytest
session; it gets its own databases and consumer groups like any e2e stack. The topics, though, are shared with
every stack on the test broker, so this one's processing also opens the cases other stacks' desks receive at the
same ward. Its shared clock is therefore set to a past working morning drawn per run: its dossier codes (which
carry the day) cannot collide with theirs, and its cases, due earlier, come first in the ward's work queue."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from deploy.local.dev_ca import CaFiles, ensure
from libs.calendar import load_calendar
from tests.conftest import NewDatabase
from tests.support.processes import wait_http_ok
from tests.support.stack import ROOT, SERVICES, Stack

CONSOLE_BASE = int(os.environ.get("ONESTOP_CONSOLE_TEST_BASE_PORT", "18100"))
SCREENSHOTS = ROOT / ".run" / "test" / "screenshots"
AXE = ROOT / "services" / "console" / "static" / "vendor" / "axe.min.js"
CHROMIUM = os.environ.get("ONESTOP_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
# Personal IDs and phones the console tests type in; no service's log and not the console's may hold them raw.
KNOWN_PII = {"019090001234", "0912345678", "+84912345678", "019090005678", "019090004321", "019090007777",
             "0987654321", "+84987654321", "019090002222", "019090003333", "019090004444", "0912000111",
             "+84912000111", "019090006666", "019090008888"}
PASSWORDS = {"ward": "motcua-ward-2026", "land": "motcua-land-2026", "other": "motcua-other-2026"}


@dataclass
class ConsoleStack(Stack):
    """The four services on CONSOLE_BASE + 1 … + 4; the console itself on CONSOLE_BASE."""

    today: datetime = field(default_factory=lambda: past_working_morning())  # the stack's clock at start

    @staticmethod
    def port(service: str) -> int:
        return CONSOLE_BASE if service == "console" else CONSOLE_BASE + 1 + SERVICES.index(service)

    def start_console(self) -> None:
        env = {**os.environ, "ONESTOP_CONSOLE_PORT": str(self.port("console")), "ONESTOP_RUN_DIR": str(self.run_dir),
               "ONESTOP_CLOCK": "controlled",
               **{f"ONESTOP_CONSOLE_{s.upper()}_URL": self.url(s) for s in SERVICES}}
        self.log("console").parent.mkdir(parents=True, exist_ok=True)
        out = self.log("console").open("ab")
        self.procs["console"] = subprocess.Popen([sys.executable, "-m", "services.console"], cwd=ROOT, env=env,
                                                 stdout=out, stderr=subprocess.STDOUT)


# Package scope: the console's stack stops when tests/console is done. All stacks share the broker's topics,
# so a stack left running would consume the next one's events too (its notices, its dead letters doubled).
@pytest.fixture(scope="package")
async def console_stack(kafka_bootstrap: str, new_database: NewDatabase) -> AsyncIterator[ConsoleStack]:
    run_dir = Path(tempfile.mkdtemp(prefix="onestop-console-"))
    urls = {s: await new_database(f"c{s}") for s in SERVICES}
    stack = ConsoleStack(run_dir=run_dir, kafka=kafka_bootstrap, db_urls=urls)
    ensure(CaFiles(run_dir / "ca"))  # intake checks signed results (and certifies copies) against this run's CA
    stack.sensitive |= KNOWN_PII
    try:
        await stack.start_all()
        await stack.clock(set_to=stack.today.isoformat())
        stack.start_console()
        await wait_http_ok("console", stack.procs["console"], f"{stack.url('console')}/healthz",
                           stack.log("console"), 60)
        yield stack
    finally:
        stack.stop_all()
    leaked = stack.logs_containing(stack.sensitive)
    assert not leaked, f"raw personal data in the logs under {run_dir / 'logs'}: {leaked}"


@dataclass
class Artefacts:
    """Screenshots of every page visited, and what axe-core found on each (checked as the test goes)."""

    folder: Path
    axe_source: str
    shots: list[Path] = field(default_factory=list)

    async def check(self, page: Any, name: str) -> list[dict[str, Any]]:
        """Screenshot + axe-core run; returns the serious or critical violations (the caller asserts none)."""
        path = self.folder / f"{len(self.shots) + 1:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        if not await page.evaluate("typeof window.axe !== 'undefined'"):
            await page.evaluate(self.axe_source)
        result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]
        return [{"page": name, "id": v["id"], "impact": v["impact"], "help": v["help"],
                 "nodes": [n["html"][:200] for n in v["nodes"][:3]]} for v in bad]


@pytest.fixture(scope="session")
def artefacts() -> Artefacts:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run deploy/local/bootstrap.sh (it fetches the pinned axe-core)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return Artefacts(SCREENSHOTS, AXE.read_text(encoding="utf-8"))


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (once per session)
        pytest.fail(f"chromium not found at {CHROMIUM}: run deploy/local/bootstrap.sh (apt package chromium)")
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield launched
        finally:
            await launched.close()


def past_working_morning() -> datetime:
    """08:30 local on a working day drawn from the year before last month (the catalogue is in force then)."""
    calendar = load_calendar()
    day = date.today() - timedelta(days=random.randint(45, 400))
    while not calendar.is_working_day(day) or day < date(2025, 7, 15):
        day = day + timedelta(days=1) if day < date(2025, 7, 15) else day - timedelta(days=1)
    return datetime.combine(day, time(8, 30), ZoneInfo("Asia/Ho_Chi_Minh"))


def dumps(violations: list[dict[str, Any]]) -> str:
    return json.dumps(violations, ensure_ascii=False, indent=1)
