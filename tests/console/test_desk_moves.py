"""The desk's other moves by clicking: refusal with its reason (Form 03), papers missing (Form 02), withdrawal;
and the notices page, where only an admin may ask for a notice to be sent again (a refusal shows its reason)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.conftest import Artefacts, ConsoleStack, dumps
from tests.console.pages import until_state, until_visible
from tests.console.test_guards import BIRTH, open_form, page_for

pytestmark = [pytest.mark.infra, pytest.mark.browser]


async def fill_applicant(page: Any, name: str, pid: str) -> None:
    await page.fill("#full_name", name)
    await page.fill("#personal_id", pid)


async def test_refusal_needs_a_reason_and_gets_form_03(console_stack: ConsoleStack, browser: Any,
                                                       artefacts: Artefacts) -> None:
    base = console_stack.url("console")
    page = await page_for(browser, console_stack, "ward.desk")
    await open_form(page, base)
    await fill_applicant(page, "Vương Thị Từ Chối", "019090002222")
    await page.get_by_role("button", name="Từ chối tiếp nhận (Mẫu 03)").click()
    assert await page.locator("#reason-error").count(), "a refusal without a reason must be refused"
    assert await page.input_value("#full_name") == "Vương Thị Từ Chối"
    await page.fill("#reason", "Hồ sơ không thuộc thẩm quyền của phường")
    await page.get_by_role("button", name="Từ chối tiếp nhận (Mẫu 03)").click()
    await page.locator("#dossier-code").wait_for()
    assert await page.locator("#dossier-state").get_attribute("data-state") == "3"
    assert await page.locator("iframe[title='Phiếu từ chối tiếp nhận (Mẫu 03)']").count()
    violations = await artefacts.check(page, "desk-refused")
    assert not violations, dumps(violations)


async def test_papers_missing_give_form_02_and_no_dossier(console_stack: ConsoleStack, browser: Any,
                                                          artefacts: Artefacts) -> None:
    base = console_stack.url("console")
    page = await page_for(browser, console_stack, "ward.desk")
    await page.goto(f"{base}/desk/new?procedure={BIRTH}")
    await page.locator(".checklist input[type=checkbox]").first.check()  # the others are missing
    await fill_applicant(page, "Kiều Văn Thiếu", "019090003333")
    await page.fill("#reason", "Thiếu giấy chứng sinh")
    await page.get_by_role("button", name="Hướng dẫn bổ sung (Mẫu 02)").click()
    await page.get_by_role("heading", name="Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu 02)").wait_for()
    assert await page.locator("main li").count() >= 1
    link = await page.get_by_role("link", name="Tải phiếu PDF để in").get_attribute("href")
    pdf = await page.request.get(f"{base}{link}")
    assert pdf.status == 200 and (await pdf.body()).startswith(b"%PDF")
    violations = await artefacts.check(page, "desk-form-02")
    assert not violations, dumps(violations)


async def test_withdrawal_and_notices_retry_for_admins_only(console_stack: ConsoleStack, browser: Any,
                                                            artefacts: Artefacts) -> None:
    base = console_stack.url("console")
    page = await page_for(browser, console_stack, "ward.desk")
    await open_form(page, base)
    await fill_applicant(page, "Tạ Thị Rút", "019090004444")
    await page.fill("#phone", "0912000111")
    await page.get_by_role("button", name="Tiếp nhận", exact=True).click()
    code = (await page.locator("#dossier-code").inner_text()).strip()
    await page.locator("summary").click()
    await page.fill("#w-reason", "Người nộp xin rút")
    await page.get_by_role("button", name="Rút hồ sơ").click()
    await until_state(page, f"{base}/desk/dossiers/{code}", "#dossier-state", 7)

    await until_visible(page, f"{base}/notices/{code}", "tr[data-notice]")
    assert not await page.get_by_role("button", name="Gửi lại thông báo 1").count()  # a desk officer
    admin = await page_for(browser, console_stack, "ward.admin")
    # The button shows once the notice has left `created` / `sending` (delivered, failed or expired).
    await until_visible(admin, f"{base}/notices/{code}", "button[aria-label='Gửi lại thông báo 1']")
    await admin.get_by_role("button", name="Gửi lại thông báo 1").click()
    await admin.wait_for_load_state()
    # Sent again, or the service's reason why not (e.g. it was already delivered): never a bare error page.
    outcome = admin.locator("#notice-error, [role=status]")
    assert await outcome.count() == 1, await admin.content()
    violations = await artefacts.check(admin, "notices-admin")
    assert not violations, dumps(violations)
