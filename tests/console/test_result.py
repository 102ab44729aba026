"""The competent agency's signed result through the console (issue 17): a land dossier brought by the services'
APIs to the land office head's decision; the head's electronic approval without a result is refused with the
reason in Vietnamese; the head attaches the PDF the office signed ("Đính kèm kết quả đã ký số"; intake checks its
signature against the run's development CA), sees it with its download link, approves electronically; the ward
desk's dossier page lists it as "Kết quả giải quyết (đã ký số)". Needs intake's result API and processing's check."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from libs.auth import issue_token
from libs.settings import CommonSettings
from tests.console.conftest import Artefacts, ConsoleStack, dumps
from tests.console.pages import until_state, until_visible
from tests.console.test_guards import WARD, desk_token, page_for
from tests.support.signing import signed_pdf
from tests.support.stack import eventually

pytestmark = [pytest.mark.infra, pytest.mark.browser]

LAND, LAND_PROCEDURE = "000.01.05.H55", "1.013833"


def land(sub: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(sub, [role], LAND, CommonSettings().jwt_secret)}"}


async def to_the_decision(stack: ConsoleStack) -> str:
    """A land dossier received at the ward and worked at the land office up to its head's decision."""
    body = {"procedure_code": LAND_PROCEDURE, "channel": "in_person", "receiving_agency": WARD,
            "applicant": {"full_name": "Đinh Văn Kết Quả", "personal_id": "019090003434"},
            "documents": [{"name": "Đơn đăng ký biến động đất đai", "digitised": True}]}
    head, specialist = land("land.head", "department_head"), land("land.specialist", "specialist")
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{stack.url('intake')}/api/v1/dossiers", json=body, headers=desk_token())
        assert r.status_code == 201, r.text
        code = r.json()["code"]
        cases = f"{stack.url('processing')}/api/v1/cases/{code}"
        await eventually(lambda: _opened(client, cases), timeout=20)
        for headers, action, extra in (
                (desk_token(), "transfer", {}), (head, "acknowledge", {}),
                (head, "assign", {"officer": "land.specialist", "step_code": "review"}),
                (head, "complete-step", {}), (specialist, "complete-step", {}), (head, "complete-step", {})):
            answer = await client.post(f"{cases}/actions", json={"action": action, **extra}, headers=headers)
            assert answer.status_code == 200, (action, answer.text)
    return str(code)


async def _opened(client: httpx.AsyncClient, url: str) -> bool:
    return (await client.get(url, headers=desk_token())).status_code == 200


async def test_land_head_attaches_the_signed_result_and_approves_electronically(
        console_stack: ConsoleStack, browser: Any, artefacts: Artefacts) -> None:
    console_stack.sensitive.add("019090003434")
    code = await to_the_decision(console_stack)
    base = console_stack.url("console")
    head = await page_for(browser, console_stack, "land.head")
    await head.goto(f"{base}/cases/{code}")
    approve = head.locator("form.action:has(button[data-action='approve'])")
    await approve.locator("#approve-electronic").check()
    await approve.locator("button[data-action='approve']").click()
    await head.wait_for_load_state()
    assert "Chưa có kết quả đã ký số" in await head.locator("#action-error").inner_text()
    assert await head.locator("#case-state").get_attribute("data-state") == "4"
    violations = await artefacts.check(head, "case-electronic-refused")

    # The office's PAdES signature; pyHanko runs its own event loop, so in a thread of its own.
    pdf = await asyncio.to_thread(signed_pdf, console_stack.run_dir / "ca", "Văn phòng Đăng ký đất đai", 1)
    await head.set_input_files("#result-file", files=[{"name": "ket-qua.pdf", "mimeType": "application/pdf",
                                                       "buffer": pdf}])
    await head.get_by_role("button", name="Đính kèm kết quả", exact=True).click()
    await head.wait_for_load_state()
    assert not await head.locator("#result-error").count(), await head.locator("#result-error").inner_text()
    href = await head.locator("#result a.download").first.get_attribute("href")
    got = await head.request.get(f"{base}{href}")
    assert got.status == 200 and await got.body() == pdf  # kept byte for byte as the office signed it
    await until_visible(head, f"{base}/cases/{code}", "#result-attached")  # processing has intake's event
    violations += await artefacts.check(head, "case-result-attached")

    approve = head.locator("form.action:has(button[data-action='approve'])")
    await approve.locator("#approve-electronic").check()
    await approve.locator("button[data-action='approve']").click()
    await head.wait_for_load_state()
    assert not await head.locator("#action-error").count(), await head.locator("#action-error").inner_text()
    assert await head.locator("#case-state").get_attribute("data-state") == "9"

    desk = await page_for(browser, console_stack, "ward.desk")
    await until_state(desk, f"{base}/desk/dossiers/{code}", "#dossier-state", 9)
    result = desk.locator("table.documents tr[data-kind='result']")
    assert "Kết quả giải quyết (đã ký số)" in await result.inner_text()
    listed = await desk.request.get(f"{base}{await result.locator('a.download').get_attribute('href')}")
    assert listed.status == 200 and await listed.body() == pdf
    violations += await artefacts.check(desk, "desk-dossier-result")
    assert not violations, dumps(violations)
