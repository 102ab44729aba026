"""The scans of a dossier's papers in the console (issue 17): the desk uploads a scan per checklist item and sees
it listed, a file that is not a PDF / JPEG / PNG shows intake's 415 reason beside its item, a double submit stores
once, a scan above the suite's 1 MiB body bound still passes the console, the download gives back the same bytes
(from the desk's page and from the case page), and an officer of another ward gets the console's 404 page."""

from __future__ import annotations

import io
from typing import Any

import pytest
from starlette.datastructures import UploadFile

from services.console.pages import documents
from tests.console.conftest import Artefacts, ConsoleStack, dumps
from tests.console.pages import until_visible
from tests.console.test_console_unit import client, sign_in
from tests.console.test_guards import open_form, page_for

PID = "019090009191"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(120)  # an executable renamed .pdf: refused from its bytes
BIG_PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(1_500_000)  # over the 1 MiB bound every other form keeps


async def upload(page: Any, item: int, name: str, mime: str, data: bytes) -> None:
    await page.set_input_files(f"#file-{item}", files=[{"name": name, "mimeType": mime, "buffer": data}])
    await page.locator(f"#item-{item} button[type=submit]").click()
    await page.wait_for_load_state()


@pytest.mark.infra
@pytest.mark.browser
async def test_desk_uploads_lists_and_downloads_scans_others_get_404(console_stack: ConsoleStack, browser: Any,
                                                                   artefacts: Artefacts) -> None:
    console_stack.sensitive.add(PID)
    base = console_stack.url("console")
    page = await page_for(browser, console_stack, "ward.desk")
    await open_form(page, base)
    await page.fill("#full_name", "Lâm Thị Bản Quét")
    await page.fill("#personal_id", PID)
    await page.get_by_role("button", name="Tiếp nhận", exact=True).click()
    code = (await page.locator("#dossier-code").inner_text()).strip()
    assert await page.locator("#documents .documents-empty").count() == 1

    await upload(page, 1, "to-khai.pdf", "application/pdf", ELF)
    reason = await page.locator("#item-1-error").inner_text()
    assert "không phải PDF, JPEG hoặc PNG" in reason, reason
    assert await page.locator("#documents .documents-empty").count() == 1, "a refused file must not be listed"
    violations = await artefacts.check(page, "desk-documents-refused")

    await upload(page, 1, "to-khai.pdf", "application/pdf", PDF)
    await upload(page, 1, "to-khai.pdf", "application/pdf", PDF)  # submitted twice: stored once
    await upload(page, 2, "giay-chung-sinh.png", "image/png", BIG_PNG)
    rows = page.locator("table.documents tbody tr")
    assert await rows.count() == 2, await page.locator("#documents").inner_text()
    first = page.locator("table.documents tr[data-item='1']")
    assert await first.count() == 1
    listed = await first.inner_text()
    assert "Tờ khai đăng ký khai sinh" in listed and "PDF" in listed and "Đã số hóa" in listed, listed
    assert "1,4 MB" in await page.locator("table.documents tr[data-item='2']").inner_text()
    violations += await artefacts.check(page, "desk-documents-listed")
    assert not violations, dumps(violations)

    href = await first.locator("a.download").get_attribute("href")
    got = await page.request.get(f"{base}{href}")
    assert got.status == 200 and await got.body() == PDF
    assert got.headers["content-type"] == "application/pdf"

    # The case page (processing opens the case from intake's event) lists the same scans.
    await until_visible(page, f"{base}/cases/{code}", "#documents a.download")
    assert await page.locator("#documents table.documents tbody tr").count() == 2

    other = await page_for(browser, console_stack, "other.desk")
    refused = await other.request.get(f"{base}{href}")
    assert refused.status == 404 and "<html" in (await refused.text()).lower()
    await other.context.close()
    await page.context.close()


def test_the_upload_route_alone_passes_the_1_mib_bound_and_still_needs_the_csrf_token() -> None:
    c = client()
    assert sign_in(c).status_code == 303
    two_mib = {"file": ("scan.pdf", b"%PDF-1.4\n" + bytes(2 * 1024 * 1024), "application/pdf")}
    other_form = c.post("/desk/receive", files=two_mib)
    assert other_form.status_code == 413  # any other form: refused before it is parsed
    upload = c.post("/desk/dossiers/000.00.12.H55-260108-0001/documents", data={"item": "1"}, files=two_mib)
    assert upload.status_code == 403 and "CSRF" in upload.text  # read whole, then refused for the missing token


class Unreachable:
    async def raw(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an oversized file must not be sent to intake")


async def test_a_file_over_intakes_limits_is_refused_with_its_reason_before_sending() -> None:
    limits = documents.Limits(file_bytes=1000, dossier_bytes=1500)
    listed = [{"checklist_item": 1, "sha256": "ab" * 32, "size": 900}]
    session: Any = type("S", (), {"token": "t"})()
    services: Any = Unreachable()
    for size, scans in ((1001, []), (700, listed)):  # over the per-file limit; over what the dossier has left
        file = UploadFile(io.BytesIO(b"%PDF-1.4\n" + bytes(size - 9)), filename="a.pdf")
        assert await documents.upload(services, session, "X-1", 2, file, limits, scans) == documents.REFUSALS[413]
    # A repeat of a listed upload adds nothing to the dossier: only the per-file limit applies to it.
    assert documents.room(limits, listed, 1, "ab" * 32) == 1000
    assert documents.room(limits, listed, 2, "ab" * 32) == 600
    key = documents.upload_key("X-1", 1, "ab" * 32)
    assert key == documents.upload_key("X-1", 1, "ab" * 32) != documents.upload_key("X-1", 2, "ab" * 32)
