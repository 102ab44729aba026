"""Scans taken on the receipt form before the receipt (docs/domain.md §4.4): the desk uploads a scan for items 1
and 2, each round trip keeping what was typed and the form's Idempotency-Key, receives, and the dossier page lists
both scans with the same bytes on download; a file that is not a PDF / JPEG / PNG shows intake's 415 reason in
Vietnamese beside its item and keeps the form as typed."""

from __future__ import annotations

from typing import Any

import pytest

from services.console.pages import drafts
from tests.console.conftest import Artefacts, ConsoleStack, dumps
from tests.console.test_console_unit import client, sign_in
from tests.console.test_guards import open_form, page_for

PID, OTHER_PID = "019090009292", "019090009393"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(3000)
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(120)  # an executable renamed .pdf: refused from its bytes


async def scan(page: Any, item: int, name: str, mime: str, data: bytes) -> None:
    await page.set_input_files(f"#scan-{item}", files=[{"name": name, "mimeType": mime, "buffer": data}])
    async with page.expect_navigation():
        await page.locator(f"#scan-item-{item} button[type=submit]").click()


async def key_of(page: Any) -> str:
    value: str = await page.locator("input[name=idempotency_key]").get_attribute("value")
    return value


@pytest.mark.infra
@pytest.mark.browser
async def test_scans_taken_before_the_receipt_become_the_dossiers_documents(
        console_stack: ConsoleStack, browser: Any, artefacts: Artefacts) -> None:
    console_stack.sensitive.add(PID)
    base = console_stack.url("console")
    page = await page_for(browser, console_stack, "ward.desk")
    await open_form(page, base)
    await page.fill("#full_name", "Trịnh Văn Quét Trước")
    await page.fill("#personal_id", PID)
    key = await key_of(page)

    await scan(page, 1, "to-khai.pdf", "application/pdf", PDF)
    assert await key_of(page) == key, "the draft's key must stay the form's key"
    assert await page.input_value("#full_name") == "Trịnh Văn Quét Trước"
    assert await page.locator(".checklist input:checked").count() == await page.locator(".checklist input").count()
    await scan(page, 2, "giay-chung-sinh.png", "image/png", PNG)
    await scan(page, 2, "giay-chung-sinh.png", "image/png", PNG)  # sent twice: stored once
    assert await key_of(page) == key and await page.input_value("#personal_id") == PID
    listed = {n: page.locator(f"#scan-item-{n} .draft-list li") for n in (1, 2)}
    assert [await listed[n].count() for n in (1, 2)] == [1, 1], await page.locator("#draft-scans").inner_text()
    assert "to-khai.pdf" in await listed[1].inner_text() and "PNG" in await listed[2].inner_text()
    href = await listed[1].locator("a").get_attribute("href")
    before = await page.request.get(f"{base}{href}")  # the officer may check a scan before the receipt
    assert before.status == 200 and await before.body() == PDF
    violations = await artefacts.check(page, "desk-draft-scans")

    await page.get_by_role("button", name="Tiếp nhận", exact=True).click()
    await page.locator("#dossier-code").wait_for()
    rows = page.locator("#documents table.documents tbody tr")
    assert await rows.count() == 2, await page.locator("#documents").inner_text()
    for item, data in ((1, PDF), (2, PNG)):
        row = page.locator(f"#documents tr[data-item='{item}']")
        assert "Đã số hóa" in await row.inner_text()
        got = await page.request.get(f"{base}{await row.locator('a.download').get_attribute('href')}")
        assert got.status == 200 and await got.body() == data
    violations += await artefacts.check(page, "desk-draft-scans-received")
    assert not violations, dumps(violations)
    await page.context.close()


@pytest.mark.infra
@pytest.mark.browser
async def test_a_wrong_file_type_shows_the_reason_and_keeps_the_form(
        console_stack: ConsoleStack, browser: Any, artefacts: Artefacts) -> None:
    page = await page_for(browser, console_stack, "ward.desk")
    await open_form(page, console_stack.url("console"))
    await page.fill("#full_name", "Mạc Thị Sai Tệp")
    await page.fill("#other_docs", "Bản sao sổ hộ khẩu")
    key = await key_of(page)
    await scan(page, 1, "to-khai.pdf", "application/pdf", ELF)
    reason = await page.locator("#scan-1-error").inner_text()
    assert "không phải PDF, JPEG hoặc PNG" in reason, reason
    assert await page.get_attribute("#scan-1", "aria-invalid") == "true"
    assert await page.locator("#draft-scans .draft-list").count() == 0, "a refused file must not be listed"
    assert await page.input_value("#full_name") == "Mạc Thị Sai Tệp"
    assert await page.input_value("#other_docs") == "Bản sao sổ hộ khẩu"
    assert await key_of(page) == key
    violations = await artefacts.check(page, "desk-draft-scan-refused")
    assert not violations, dumps(violations)

    # Enter in a field still receives (the form's default button), though the upload buttons come first.
    console_stack.sensitive.add(OTHER_PID)
    await page.fill("#personal_id", OTHER_PID)
    async with page.expect_navigation():
        await page.press("#full_name", "Enter")
    await page.locator("#dossier-code").wait_for()
    assert await page.locator("#documents .documents-empty").count() == 1, "the refused file was not kept"
    await page.context.close()


def test_the_draft_upload_passes_the_1_mib_bound_needs_the_csrf_token_and_a_console_key() -> None:
    c = client()
    assert sign_in(c).status_code == 303
    two_mib = {"scan-1": ("scan.pdf", b"%PDF-1.4\n" + bytes(2 * 1024 * 1024), "application/pdf")}
    refused = c.post("/desk/draft-scans", data={"scan_item": "1"}, files=two_mib)
    assert refused.status_code == 403 and "CSRF" in refused.text  # read whole, then refused for the missing token
    assert drafts.valid_key("0b9a3c1e-8f0e-4c55-9d0c-3f1f7f0b2a11")
    assert not drafts.valid_key("../../dossiers/X") and not drafts.valid_key("") and not drafts.valid_key(None)
