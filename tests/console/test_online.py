"""Online submission through the console (issue 17), by clicking: a citizen on a phone files a birth registration
with a file, the desk finds it in its queue of online submissions, downloads the file and accepts it, and the
citizen's status page shows the dossier code and the appointment; a refusal shows its reason to the citizen; a
double click on the citizen's send button makes one submission. Needs intake's submission API (helper A)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.console.conftest import Artefacts, ConsoleStack, dumps
from tests.console.pages import until_visible
from tests.console.test_guards import BIRTH, WARD, desk_token, page_for

pytestmark = [pytest.mark.infra, pytest.mark.browser]

PHONE = 360
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class Citizen:
    """One citizen on a phone-sized screen, each page screenshotted and checked by axe-core."""

    def __init__(self, page: Any, base: str, artefacts: Artefacts) -> None:
        self.page, self.base, self.artefacts = page, base, artefacts
        self.violations: list[dict[str, Any]] = []

    async def seen(self, name: str) -> None:
        self.violations += await self.artefacts.check(self.page, name)
        width = await self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE, f"{name}: the page scrolls sideways on a phone ({width} px)"

    async def fill_in(self, name: str, pid: str) -> None:
        page = self.page
        await page.goto(f"{self.base}/tra-cuu/nop-truc-tuyen")
        await self.seen("online-choose")
        await page.select_option("#agency", WARD)
        await page.select_option("#procedure", BIRTH)
        await page.get_by_role("button", name="Tiếp tục").click()
        await page.fill("#full_name", name)
        await page.fill("#personal_id", pid)
        await self.seen("online-form")

    async def status(self, sid: str, pid: str) -> Any:
        page = self.page
        await page.goto(f"{self.base}/tra-cuu/truc-tuyen")
        await page.fill("#id", sid)
        await page.fill("#last4", pid[-4:])
        await page.get_by_role("button", name="Tra cứu").click()
        await page.wait_for_load_state()
        assert pid not in await page.content()
        return page


async def test_citizen_files_online_on_a_phone_desk_accepts_citizen_sees_the_code(
        console_stack: ConsoleStack, browser: Any, artefacts: Artefacts) -> None:
    pid, name = "019090003131", f"Lê Văn Trực Tuyến {uuid.uuid4().hex[:4]}"
    console_stack.sensitive.add(pid)
    base = console_stack.url("console")
    citizen = Citizen(await page_for(browser, console_stack, None, width=PHONE), base, artefacts)
    await citizen.fill_in(name, pid)
    page = citizen.page
    await page.get_by_role("button", name="Gửi hồ sơ, tiếp tục tải tệp").click()
    sid = (await page.locator("#submission-id").inner_text()).strip()
    assert "upload_token" not in page.url and sid in page.url
    await page.set_input_files("#file-1", files=[{"name": "to-khai.pdf", "mimeType": "application/pdf",
                                                  "buffer": PDF}])
    await page.locator("#item-1 button[type=submit]").click()
    await page.wait_for_load_state()
    assert "to-khai.pdf" in await page.locator("ul.sent").inner_text()
    await citizen.seen("online-files")
    await page.get_by_role("link", name="Hoàn tất").click()
    assert (await page.locator("#submission-id").inner_text()).strip() == sid
    await citizen.seen("online-done")

    desk = await page_for(browser, console_stack, "ward.desk")
    await desk.goto(f"{base}/desk")
    await desk.get_by_role("link", name="Hồ sơ trực tuyến chờ tiếp nhận").first.click()
    await until_visible(desk, f"{base}/desk/submissions", f"tr[data-submission='{sid}']")
    violations = await artefacts.check(desk, "desk-submissions")
    await desk.locator(f"tr[data-submission='{sid}'] a").click()
    await desk.wait_for_load_state()
    assert (await desk.locator("#applicant-name").inner_text()).strip() == name  # who filed it, before deciding
    assert await desk.locator("#declared li").count() >= 1
    href = await desk.locator("table.documents a.download").first.get_attribute("href")
    got = await desk.request.get(f"{base}{href}")
    assert got.status == 200 and await got.body() == PDF
    violations += await artefacts.check(desk, "desk-submission")
    await desk.get_by_role("button", name="Tiếp nhận hồ sơ").click()
    await desk.wait_for_load_state()
    code = (await desk.locator("#accepted-code").inner_text()).strip()
    appointment = (await desk.locator("#accepted-appointment").inner_text()).strip()
    assert code and appointment
    violations += await artefacts.check(desk, "desk-submission-accepted")
    await desk.locator("#dossier-link").click()
    assert (await desk.locator("#dossier-code").inner_text()).strip() == code
    assert "Trực tuyến" in await desk.locator("dl.facts").inner_text()

    page = await citizen.status(sid, pid)
    assert await page.locator("#submission-state").get_attribute("data-state") == "accepted"
    assert (await page.locator("#dossier-code").inner_text()).strip() == code
    assert (await page.locator("#appointment").inner_text()).strip() == appointment
    await citizen.seen("online-status-accepted")
    assert not citizen.violations + violations, dumps(citizen.violations + violations)


async def test_a_refusal_shows_its_reason_to_the_citizen(console_stack: ConsoleStack, browser: Any,
                                                        artefacts: Artefacts) -> None:
    pid = "019090003232"
    console_stack.sensitive.add(pid)
    body = {"receiving_agency": WARD, "procedure_code": BIRTH, "documents": [{"name": "Tờ khai", "copies": 1}],
            "applicant": {"full_name": "Hà Thị Từ Chối", "personal_id": pid}}
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{console_stack.url('intake')}/api/v1/public/submissions", json=body,
                              headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    base = console_stack.url("console")
    desk = await page_for(browser, console_stack, "ward.desk")
    await desk.goto(f"{base}/desk/submissions/{sid}")
    reason = "Giấy chứng sinh tải lên không đọc được"
    await desk.fill("#reason", reason)
    await desk.get_by_role("button", name="Từ chối tiếp nhận").click()
    await desk.wait_for_load_state()
    assert reason in await desk.locator("#refusal-reason").inner_text()
    violations = await artefacts.check(desk, "desk-submission-refused")

    citizen = Citizen(await page_for(browser, console_stack, None, width=PHONE), base, artefacts)
    page = await citizen.status(sid, pid)
    assert await page.locator("#submission-state").get_attribute("data-state") == "refused"
    assert reason in await page.locator("#refusal-reason").inner_text()
    await citizen.seen("online-status-refused")
    assert not citizen.violations + violations, dumps(citizen.violations + violations)


async def test_a_double_click_on_send_makes_one_submission(console_stack: ConsoleStack, browser: Any,
                                                           artefacts: Artefacts) -> None:
    """The form's idempotency key: the second post answers the first submission (the ward's queue is counted
    before and after; the console's stack has its own database)."""
    pid = "019090003333"
    console_stack.sensitive.add(pid)
    before = await _waiting(console_stack)
    citizen = Citizen(await page_for(browser, console_stack, None, width=PHONE), console_stack.url("console"),
                      artefacts)
    await citizen.fill_in(f"Hai Lần Gửi {uuid.uuid4().hex[:6]}", pid)
    await citizen.page.get_by_role("button", name="Gửi hồ sơ, tiếp tục tải tệp").dblclick()
    await citizen.page.locator("#submission-id").wait_for()
    sid = (await citizen.page.locator("#submission-id").inner_text()).strip()
    await citizen.page.wait_for_timeout(500)  # let a second submission finish, if the browser sent one
    assert await _waiting(console_stack) - before == {sid}


async def _waiting(stack: ConsoleStack) -> set[str]:
    async with httpx.AsyncClient(timeout=10) as client:
        listed = await client.get(f"{stack.url('intake')}/api/v1/submissions", headers=desk_token(),
                                  params={"state": "awaiting_check"})
    assert listed.status_code == 200, listed.text
    return {s["id"] for s in listed.json()}
