"""Reporting on the running stack: a dossier received at the desk shows in Form 06 (JSON, CSV, XLSX), the
officer's scope holds, the business gauges appear, and `python -m services.reporting.rebuild` swaps in a
rebuilt generation while the stack runs, after which new dossiers are still counted."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook

from libs.auth import issue_token
from libs.settings import CommonSettings
from tests.e2e.online import accept, submit
from tests.support.stack import ROOT, Stack, eventually

pytestmark = pytest.mark.infra
WARD, OTHER_WARD = "000.00.12.H55", "000.00.13.H55"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FORM = "/api/v1/reports/form-06"
ALL_TIME = {"agency": WARD, "from": "2000-01-01", "to": "2100-01-01"}


def officer(roles: list[str], agency: str = WARD) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token('e2e-report', roles, agency, CommonSettings().jwt_secret)}"}


VIEWER = officer(["report_viewer"])
DESK = officer(["desk_officer"])


async def receive(client: httpx.AsyncClient, stack: Stack) -> dict[str, Any]:
    """A dossier filed online and accepted at the desk: Form 06 counts it online (col 4) from the submission."""
    r = await accept(client, stack, (await submit(client, stack))["id"], DESK)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def totals(client: httpx.AsyncClient, stack: Stack, params: dict[str, str] = ALL_TIME) -> dict[str, int]:
    r = await client.get(f"{stack.url('reporting')}{FORM}", params=params, headers=VIEWER)
    r.raise_for_status()
    return {k: int(v) for k, v in r.json()["total"]["columns"].items()}


async def test_a_received_dossier_is_counted_and_exported(stack: Stack) -> None:
    base = stack.url("reporting")
    async with httpx.AsyncClient(timeout=10) as client:
        now = datetime.fromisoformat(await stack.clock(advance_seconds=0)).astimezone(TZ)
        today = {"agency": WARD, "from": (now.date() - timedelta(days=1)).isoformat(),
                 "to": (now.date() + timedelta(days=1)).isoformat()}
        before = await totals(client, stack, today)
        await receive(client, stack)

        async def counted() -> bool:
            after = await totals(client, stack, today)
            return after["3"] == before["3"] + 1 and after["4"] == before["4"] + 1 and after["11"] == before["11"] + 1

        await eventually(counted, timeout=15)
        body = (await client.get(f"{base}{FORM}", params=today, headers=VIEWER)).json()
        assert body["counted_by"] == "fast" and body["agency_name"] == "Ủy ban nhân dân phường Đức Xuân"

        csv_text = (await client.get(f"{base}{FORM}", params={**today, "format": "csv"}, headers=VIEWER)).content
        rows = list(csv.reader(io.StringIO(csv_text.decode("utf-8-sig"))))
        assert rows[0][1] == "Lĩnh vực giải quyết" and rows[-1][1] == "Tổng cộng"
        xlsx = (await client.get(f"{base}{FORM}", params={**today, "format": "xlsx"}, headers=VIEWER)).content
        sheet = load_workbook(io.BytesIO(xlsx)).active
        assert sheet is not None and sheet["C4"].value == "Số hồ sơ nhận giải quyết"

        assert (await client.get(f"{base}{FORM}", params=today)).status_code == 401
        assert (await client.get(f"{base}{FORM}", params={**today, "agency": OTHER_WARD},
                                 headers=VIEWER)).status_code == 404
        for path in ("/api/v1/indicators", "/api/v1/procedures/review"):
            assert (await client.get(f"{base}{path}", params=today, headers=VIEWER)).status_code == 200
        assert (await client.get(f"{base}/api/v1/overdue", headers=VIEWER)).status_code == 200

        async def gauges() -> bool:  # computed every 15 s by a loop
            text = (await client.get(f"{base}/metrics")).text
            return f'onestop_cases_open{{agency="{WARD}"' in text and "onestop_reporting_gauges_refreshed" in text

        await eventually(gauges, timeout=25, interval=1)


async def test_rebuild_command_swaps_in_while_the_stack_runs(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        await receive(client, stack)
        before = await eventually(lambda: totals(client, stack), timeout=10)
        env = {**os.environ, "ONESTOP_KAFKA_BOOTSTRAP": stack.kafka, "ONESTOP_RUN_DIR": str(stack.run_dir),
               "ONESTOP_REPORTING_DATABASE_URL": stack.db_urls["reporting"]}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.reporting.rebuild", "--grace", "1", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=180)
        assert proc.returncode == 0, out.decode()[-3000:]
        assert "is live" in out.decode()
        # The shared topics also hold earlier runs' dossiers (fresh databases, same topics): never fewer.
        after = await totals(client, stack)
        assert after["3"] >= before["3"] and after["3"] == after["7"] + after["11"]

        await receive(client, stack)  # the live consumer now writes into the new generation

        async def one_more() -> bool:
            return (await totals(client, stack))["3"] == after["3"] + 1

        await eventually(one_more, timeout=15)
