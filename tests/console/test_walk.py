"""The whole ward ↔ city path, only by clicking and typing in the console as the officers and the citizen.

Receive at the ward desk, transfer by the ward specialist, acknowledge / assign / supplement asked at the land
office, supplement handed in at the ward desk, approve, result back, acknowledged at the ward, hand-over, rating;
each state shows on the officer's page and on the citizen's page. Every page is screenshotted and checked by
axe-core (no serious or critical violation)."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

from tests.console.conftest import ROOT, Artefacts, ConsoleStack, dumps
from tests.console.pages import sign_in, until_state, until_visible

pytestmark = [pytest.mark.infra, pytest.mark.browser]

APPLICANT = ("Trần Văn Bình", "019090001234", "0912345678")
LAND = "1.013833"


class Walk:
    def __init__(self, stack: ConsoleStack, browser: Any, artefacts: Artefacts) -> None:
        self.base, self.browser, self.artefacts = stack.url("console"), browser, artefacts
        self.violations: list[dict[str, Any]] = []
        self.pages: dict[str, Any] = {}

    async def as_(self, who: str) -> Any:
        """One browser context per person (their own cookies); officers are signed in on first use."""
        if who not in self.pages:
            context = await self.browser.new_context(viewport={"width": 360, "height": 780} if who == "citizen"
                                                     else {"width": 1280, "height": 900}, locale="vi-VN")
            page = await context.new_page()
            if who != "citizen":
                await sign_in(page, self.base, who)
            self.pages[who] = page
        return self.pages[who]

    async def seen(self, page: Any, name: str) -> None:
        self.violations += await self.artefacts.check(page, name)

    async def citizen_sees(self, code: str, state: int) -> None:
        page = await self.as_("citizen")
        url = f"{self.base}/tra-cuu?code={code}&id_last4={APPLICANT[1][-4:]}"
        await until_state(page, url, "#citizen-state", state)
        text = await page.content()
        assert not any(v in text for v in APPLICANT), "personal data on the citizen's page"
        await self.seen(page, f"citizen-{state}")

    async def case_action(self, who: str, code: str, action: str, fill: dict[str, str] | None = None) -> Any:
        page = await self.as_(who)
        await page.goto(f"{self.base}/cases/{code}")
        form = page.locator(f"form.action:has(button[data-action='{action}'])")
        for selector, value in (fill or {}).items():
            if selector.endswith("-step"):
                await form.locator(selector).select_option(value)
            else:
                await form.locator(selector).fill(value)
        await form.locator(f"button[data-action='{action}']").click()
        await page.wait_for_load_state()
        error = page.locator("#action-error")
        assert not await error.count(), f"{who} {action}: {await error.inner_text()}"
        return page


async def test_ward_to_city_and_back_by_clicking(console_stack: ConsoleStack, browser: Any,
                                                artefacts: Artefacts) -> None:
    w = Walk(console_stack, browser, artefacts)
    base = w.base

    # The ward desk finds the procedure, fills the applicant form with the checklist, receives.
    desk = await w.as_("ward.desk")
    await w.seen(desk, "home-desk")
    await desk.goto(f"{base}/desk")
    await desk.fill("#q", "biến động")
    await desk.locator(f"a[href='/desk/new?procedure={LAND}']").wait_for()
    await w.seen(desk, "desk-search")
    await desk.click(f"a[href='/desk/new?procedure={LAND}']")
    await desk.fill("#full_name", APPLICANT[0])
    await desk.fill("#personal_id", APPLICANT[1])
    await desk.fill("#phone", APPLICANT[2])
    for box in await desk.locator(".checklist input[type=checkbox]").all():
        await box.check()
    await desk.check("#digitised")
    await w.seen(desk, "desk-form")
    await desk.get_by_role("button", name="Tiếp nhận", exact=True).click()
    await desk.wait_for_load_state()
    code = (await desk.locator("#dossier-code").inner_text()).strip()
    assert await desk.locator("#dossier-state").get_attribute("data-state") == "2"
    await w.seen(desk, "desk-receipt")
    pdf = await desk.request.get(f"{base}/desk/dossiers/{code}/slips/receipt?format=pdf")
    assert pdf.status == 200 and (await pdf.body()).startswith(b"%PDF")
    await w.citizen_sees(code, 2)

    # The ward specialist finds it in the work queue and transfers it to the land office (liên thông).
    ward = await w.as_("ward.specialist")
    await until_visible(ward, f"{base}/queue", f"tr[data-code='{code}']")
    await w.seen(ward, "queue-ward")
    if os.environ.get("ONESTOP_UPDATE_DOCS"):
        shutil.copy(artefacts.shots[-1], ROOT / "docs" / "img" / "console-queue.png")
        shutil.copy(next(artefacts.folder.glob("*-desk-form.png")), ROOT / "docs" / "img" / "console-desk.png")
    await ward.click(f"tr[data-code='{code}'] a")
    await w.seen(ward, "case-ward")
    page = await w.case_action("ward.specialist", code, "transfer", {"#transfer-note": "Đủ hồ sơ"})
    assert await page.locator("#case-state").get_attribute("data-state") == "4"
    await w.citizen_sees(code, 4)

    # The land office head acknowledges in the inter-agency inbox, assigns the review, completes the assignment.
    head = await w.as_("land.head")
    await until_visible(head, f"{base}/inbox", f"tr[data-code='{code}']")
    await w.seen(head, "inbox-land")
    await head.get_by_role("button", name=f"Xác nhận đã nhận hồ sơ {code}").click()
    await head.wait_for_load_state()
    assert not await head.locator(f"tr[data-code='{code}']").count()
    await w.case_action("land.head", code, "assign", {"#assign-officer": "land.specialist", "#assign-step": "review"})
    await w.case_action("land.head", code, "complete-step")

    # The land specialist asks for a supplement; the ward desk takes the papers in.
    page = await w.case_action("land.specialist", code, "request-supplement", {
        "#request-supplement-items": "Bản sao CCCD của bên nhận", "#request-supplement-reason": "Thiếu giấy tờ"})
    assert await page.locator("#case-state").get_attribute("data-state") == "5"
    await w.seen(page, "case-land-supplement")
    await w.citizen_sees(code, 5)
    await until_state(desk, f"{base}/desk/dossiers/{code}", "#dossier-state", 5)
    await desk.fill("#items", "Bản sao CCCD của bên nhận")
    await w.seen(desk, "desk-supplement")
    await desk.get_by_role("button", name="Nhận bổ sung").click()
    await desk.wait_for_load_state()
    await until_state(desk, f"{base}/cases/{code}", "#case-state", 4)
    await w.citizen_sees(code, 4)

    # Review, head of division, approval; the result goes back to the ward.
    await until_visible(await w.as_("land.specialist"), f"{base}/cases/{code}", "button[data-action='complete-step']")
    await w.case_action("land.specialist", code, "complete-step")
    await w.case_action("land.head", code, "complete-step")
    page = await w.case_action("land.head", code, "approve", {"#approve-note": "Đủ điều kiện"})
    assert await page.locator("#case-state").get_attribute("data-state") == "9"
    await w.citizen_sees(code, 9)
    land = await w.as_("land.specialist")
    await land.goto(f"{base}/inbox")  # results waiting to go back are listed in the inbox too
    await w.seen(land, "inbox-result")
    await land.get_by_role("button", name=f"Chuyển kết quả hồ sơ {code} về nơi tiếp nhận").click()
    await land.wait_for_load_state()
    assert not await land.locator(f"ul.results li[data-code='{code}']").count()

    # The ward acknowledges the result, hands it over, and records the applicant's rating.
    await until_visible(desk, f"{base}/inbox", f"tr[data-code='{code}']")
    await desk.get_by_role("button", name=f"Xác nhận đã nhận hồ sơ {code}").click()
    await desk.wait_for_load_state()
    await until_visible(desk, f"{base}/desk/dossiers/{code}", "button:has-text('Trả kết quả')")
    await w.seen(desk, "desk-handover")
    await desk.get_by_role("button", name="Trả kết quả").click()
    await desk.wait_for_load_state()
    await until_state(desk, f"{base}/desk/dossiers/{code}", "#dossier-state", 10)
    await until_visible(desk, f"{base}/desk/dossiers/{code}", "#rating-5")
    await desk.check("#rating-5")
    await desk.fill("#comment", "Nhanh, tận tình")
    await desk.get_by_role("button", name="Ghi nhận đánh giá").click()
    await desk.wait_for_load_state()
    await w.seen(desk, "desk-rated")
    await w.citizen_sees(code, 10)
    citizen = await w.as_("citizen")
    assert "đã đánh giá" in (await citizen.locator("#rating-state").inner_text())

    # The officer's record of it all: the case page with its control slip, and the notices sent.
    await until_state(desk, f"{base}/cases/{code}", "#case-state", 10)
    assert await desk.locator("text=Phiếu kiểm soát quá trình giải quyết hồ sơ").count()
    await w.seen(desk, "case-closed")
    await desk.goto(f"{base}/notices/{code}")
    await w.seen(desk, "notices")
    await desk.goto(f"{base}/desk/tracking-book")
    assert await desk.locator(f"a[href='/desk/dossiers/{code}']").count()
    await w.seen(desk, "tracking-book")
    book = await desk.get_by_role("link", name="Tải sổ (PDF)").get_attribute("href")
    pdf = await desk.request.get(f"{base}{book}")
    assert pdf.status == 200 and (await pdf.body()).startswith(b"%PDF")

    assert not w.violations, dumps(w.violations)
