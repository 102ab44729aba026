"""What the console must refuse or keep: field reasons with what was typed, one dossier per double click,
foreign dossiers, forms without their CSRF token, personal data on the citizen's pages, and the way back to the
page asked for after sign-in. Plus axe-core on the pages the walk does not visit (reports, errors, sign-in)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from libs.auth import issue_token
from libs.settings import CommonSettings
from tests.console.conftest import Artefacts, ConsoleStack, dumps
from tests.console.pages import sign_in, until_state
from tests.support.stack import eventually

pytestmark = [pytest.mark.infra, pytest.mark.browser]

WARD = "000.00.12.H55"
BIRTH = "1.001193"  # Đăng ký khai sinh: received and resolved by the ward


def desk_token() -> dict[str, str]:
    token = issue_token("ward.desk", ["desk_officer"], WARD, CommonSettings().jwt_secret)
    return {"Authorization": f"Bearer {token}"}


async def page_for(browser: Any, stack: ConsoleStack, who: str | None, width: int = 1280) -> Any:
    context = await browser.new_context(viewport={"width": width, "height": 900}, locale="vi-VN")
    page = await context.new_page()
    if who:
        await sign_in(page, stack.url("console"), who)
    return page


async def open_form(page: Any, base: str, procedure: str = BIRTH) -> None:
    await page.goto(f"{base}/desk/new?procedure={procedure}")
    for box in await page.locator(".checklist input[type=checkbox]").all():
        await box.check()


async def test_bad_input_shows_the_reason_beside_the_field_and_keeps_what_was_typed(
        console_stack: ConsoleStack, browser: Any, artefacts: Artefacts) -> None:
    page = await page_for(browser, console_stack, "ward.desk")
    await open_form(page, console_stack.url("console"))
    await page.fill("#full_name", "Lý Thị Nhập Sai")
    await page.fill("#personal_id", "12345")
    await page.fill("#phone", "0123")
    await page.fill("#other_docs", "Sổ hộ khẩu cũ")
    async with page.expect_response(lambda r: r.url.endswith("/desk/receive")) as answer:
        await page.get_by_role("button", name="Tiếp nhận", exact=True).click()
    assert (await answer.value).status == 422
    assert "12 digits" in await page.locator("#personal_id-error").inner_text()
    assert await page.locator("#phone-error").inner_text()
    assert await page.locator("#personal_id").get_attribute("aria-invalid") == "true"
    assert await page.input_value("#full_name") == "Lý Thị Nhập Sai"
    assert await page.input_value("#personal_id") == "12345"
    assert await page.input_value("#other_docs") == "Sổ hộ khẩu cũ"
    assert await page.locator(".checklist input:checked").count() == await page.locator(".checklist input").count()
    violations = await artefacts.check(page, "desk-form-errors")
    assert not violations, dumps(violations)


async def test_a_double_click_on_receive_makes_one_dossier(console_stack: ConsoleStack, browser: Any) -> None:
    page = await page_for(browser, console_stack, "ward.desk")
    await open_form(page, console_stack.url("console"))
    name = f"Hai Lần Bấm {uuid.uuid4().hex[:6]}"
    await page.fill("#full_name", name)
    await page.fill("#personal_id", "019090005678")
    posts: list[int] = []
    page.on("response", lambda r: posts.append(r.status) if r.url.endswith("/desk/receive") else None)
    await page.get_by_role("button", name="Tiếp nhận", exact=True).dblclick()
    await page.locator("#dossier-code").wait_for()
    code = (await page.locator("#dossier-code").inner_text()).strip()
    await page.wait_for_timeout(500)  # let a second submission finish, if the browser sent one
    async with httpx.AsyncClient(timeout=10) as client:
        book = await client.get(f"{console_stack.url('intake')}/api/v1/tracking-book", headers=desk_token(),
                                params={"from": str(console_stack.today.date()), "to": str(console_stack.today.date())})
    assert book.status_code == 200, book.text
    mine = [row["code"] for row in book.json() if row["applicant_name"] == name]
    assert mine == [code], (mine, posts)

    # The same form posted twice more (a retry after a lost answer): still the one dossier.
    await open_form(page, console_stack.url("console"))
    fields = {n: await page.locator(f"input[name={n}]").first.get_attribute("value")
              for n in ("csrf_token", "idempotency_key", "procedure_code")}
    form = {**fields, "full_name": name + " B", "personal_id": "019090005678", "doc": "Tờ khai", "channel": "in_person"}
    url = f"{console_stack.url('console')}/desk/receive"
    first = await page.request.post(url, form=form, max_redirects=0)
    second = await page.request.post(url, form=form, max_redirects=0)
    assert first.status == second.status == 303
    assert first.headers["location"] == second.headers["location"] != f"/desk/dossiers/{code}"


async def test_another_agency_neither_sees_nor_reaches_a_foreign_dossier(
        console_stack: ConsoleStack, browser: Any, artefacts: Artefacts) -> None:
    base = console_stack.url("console")
    body = {"procedure_code": BIRTH, "channel": "in_person",
            "applicant": {"full_name": "Đào Thị Riêng", "personal_id": "019090004321"},
            "documents": [{"name": "Tờ khai"}]}
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{console_stack.url('intake')}/api/v1/dossiers", json=body, headers=desk_token())
        code = r.json()["code"]
        await eventually(lambda: _case_open(client, console_stack, code), timeout=20)
    page = await page_for(browser, console_stack, "other.desk")
    for path in (f"/desk/dossiers/{code}", f"/cases/{code}", f"/notices/{code}",
                 f"/desk/dossiers/{code}/slips/receipt"):
        answer = await page.goto(f"{base}{path}")
        assert answer.status == 404, (path, answer.status)
        assert "Đào Thị Riêng" not in await page.content() and "Đăng ký khai sinh" not in await page.content()
    violations = await artefacts.check(page, "foreign-dossier-404")
    await page.goto(f"{base}/queue")
    assert not await page.locator(f"tr[data-code='{code}']").count()
    assert not violations, dumps(violations)


async def _case_open(client: httpx.AsyncClient, stack: ConsoleStack, code: str) -> bool:
    r = await client.get(f"{stack.url('processing')}/api/v1/cases/{code}", headers=desk_token())
    return r.status_code == 200


async def test_a_form_without_its_csrf_token_gets_403(console_stack: ConsoleStack, browser: Any) -> None:
    base = console_stack.url("console")
    page = await page_for(browser, console_stack, "ward.desk")
    form = {"procedure_code": BIRTH, "full_name": "Không Có Mã", "personal_id": "019090001111"}
    for path in ("/desk/receive", "/sign-out", "/cases/X/actions", "/desk/dossiers/X/handover"):
        answer = await page.request.post(f"{base}{path}", form=form)
        assert answer.status == 403, (path, answer.status)
        wrong = await page.request.post(f"{base}{path}", form={**form, "csrf_token": "forged"})
        assert wrong.status == 403, (path, wrong.status)
    await page.goto(f"{base}/")  # still signed in: the refused sign-out did nothing
    assert await page.locator("text=Đăng xuất").count()
    login = await page.request.post(f"{base}/sign-in", form={"username": "ward.desk", "password": "x"})
    assert login.status == 403


async def test_the_citizen_pages_show_no_personal_data(console_stack: ConsoleStack, browser: Any,
                                                      artefacts: Artefacts) -> None:
    pid, phone, name, email = "019090007777", "0987654321", "Phan Văn Riêng Tư", "rieng.tu@example.vn"
    body = {"procedure_code": BIRTH, "channel": "in_person", "documents": [{"name": "Tờ khai"}],
            "applicant": {"full_name": name, "personal_id": pid, "phone": phone, "email": email}}
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{console_stack.url('intake')}/api/v1/dossiers", json=body, headers=desk_token())
    code = r.json()["code"]
    page = await page_for(browser, console_stack, None, width=360)
    base = console_stack.url("console")
    await page.goto(f"{base}/tra-cuu")
    violations = await artefacts.check(page, "citizen-lookup")
    await page.fill("#code", code)
    await page.fill("#id_last4", pid[-4:])
    await page.get_by_role("button", name="Tra cứu").click()
    await until_state(page, f"{base}/tra-cuu?code={code}&id_last4={pid[-4:]}", "#citizen-state", 2)
    html = await page.content()
    for secret in (pid, phone, "+84987654321", name, email, "Phan Văn"):
        assert secret not in html, secret
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    wrong = await page.goto(f"{base}/tra-cuu?code={code}&id_last4=0000")
    assert wrong.status == 404 and pid not in await page.content()
    violations += await artefacts.check(page, "citizen-not-found")
    assert not violations, dumps(violations)


async def test_sign_in_returns_to_the_page_asked_for(console_stack: ConsoleStack, browser: Any,
                                                    artefacts: Artefacts) -> None:
    base = console_stack.url("console")
    page = await page_for(browser, console_stack, None)
    await page.goto(f"{base}/queue?state=4")
    assert "/sign-in?next=" in page.url
    violations = await artefacts.check(page, "sign-in")
    await page.fill("#username", "ward.desk")
    await page.fill("#password", "wrong")
    await page.get_by_role("button", name="Đăng nhập").click()
    assert await page.locator("[role=alert]").count() and await page.input_value("#username") == "ward.desk"
    await page.fill("#password", "motcua-ward-2026")
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.wait_for_url(f"{base}/queue?state=4")
    cookie = next(c for c in await page.context.cookies() if c["name"] == "onestop_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    await page.get_by_role("button", name="Đăng xuất").click()
    await page.goto(f"{base}/queue")
    assert "/sign-in" in page.url
    assert not violations, dumps(violations)


async def test_report_pages(console_stack: ConsoleStack, browser: Any, artefacts: Artefacts) -> None:
    base = console_stack.url("console")
    page = await page_for(browser, console_stack, "ward.reports")
    violations: list[dict[str, Any]] = []
    for path, name in (("/reports", "report-form06"), ("/reports/indicators", "report-indicators"),
                       ("/reports/review", "report-review"), ("/reports/overdue", "report-overdue")):
        answer = await page.goto(f"{base}{path}")
        assert answer.status == 200, (path, answer.status)
        violations += await artefacts.check(page, name)
        if name == "report-indicators":
            assert await page.locator("svg.chart").count() == 2
    for fmt, magic in (("csv", b""), ("xlsx", b"PK")):
        got = await page.request.get(f"{base}/reports/form-06.{fmt}")
        assert got.status == 200 and (await got.body()).startswith(magic), fmt
        assert "attachment" in got.headers["content-disposition"]
    answer = await page.goto(f"{base}/desk")  # not a desk officer
    assert answer.status == 403
    violations += await artefacts.check(page, "forbidden")
    assert not violations, dumps(violations)


async def test_queue_filters_and_pages_update_in_place_with_htmx(console_stack: ConsoleStack, browser: Any,
                                                                  artefacts: Artefacts) -> None:
    base = console_stack.url("console")
    page = await page_for(browser, console_stack, "ward.desk")
    await page.goto(f"{base}/queue")
    assert await page.evaluate("typeof window.htmx") == "object", "htmx was not loaded from static/vendor"
    fragments: list[str] = []
    page.on("request", lambda r: fragments.append(r.url) if r.headers.get("hx-request") else None)
    async with page.expect_response(lambda r: "/queue?" in r.url and "due=overdue" in r.url):
        await page.select_option("#due", "overdue")
    await page.wait_for_url("**/queue?*due=overdue*")
    assert fragments and await page.locator("h1").count() == 1  # the table was swapped, not the page
    for row in await page.locator("table.queue tbody tr[data-code]").all():
        assert await row.get_attribute("class") == "tl-overdue"
    violations = await artefacts.check(page, "queue-filtered")
    assert not violations, dumps(violations)


async def test_my_roles_cases_filter(console_stack: ConsoleStack, browser: Any) -> None:
    """Dossiers just received wait at the receipt step (a desk officer's); a head of the ward has none of those."""
    base = console_stack.url("console")
    body = {"procedure_code": BIRTH, "channel": "in_person", "documents": [{"name": "Tờ khai"}],
            "applicant": {"full_name": "Cao Thị Vai Trò", "personal_id": "019090006666"}}
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{console_stack.url('intake')}/api/v1/dossiers", json=body, headers=desk_token())
        await eventually(lambda: _case_open(client, console_stack, r.json()["code"]), timeout=20)
    desk = await page_for(browser, console_stack, "ward.desk")
    await desk.goto(f"{base}/queue?mine=1")
    rows = desk.locator("table.queue tbody tr[data-code]")
    assert await rows.count() >= 1
    assert await desk.locator("table.queue tbody tr[data-code] .mine").count() == await rows.count()
    head = await page_for(browser, console_stack, "ward.head")
    await head.goto(f"{base}/queue?mine=1")
    for row in await head.locator("table.queue tbody tr[data-code]").all():
        assert "Tiếp nhận" not in await row.locator("td").nth(3).inner_text()


async def test_a_refused_action_shows_the_services_reason(console_stack: ConsoleStack, browser: Any,
                                                          artefacts: Artefacts) -> None:
    """A form out of date (another officer moved the case meanwhile) or forged: processing refuses, the officer
    reads processing's reason on the case page, and the case is unchanged."""
    base = console_stack.url("console")
    body = {"procedure_code": BIRTH, "channel": "in_person", "documents": [{"name": "Tờ khai"}],
            "applicant": {"full_name": "Mạc Văn Lệnh", "personal_id": "019090008888"}}
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{console_stack.url('intake')}/api/v1/dossiers", json=body, headers=desk_token())
        code = r.json()["code"]
        await eventually(lambda: _case_open(client, console_stack, code), timeout=20)
    page = await page_for(browser, console_stack, "ward.desk")
    await page.goto(f"{base}/cases/{code}")
    # The form the page would have shown before the state changed, submitted from the page itself.
    async with page.expect_response(lambda r: r.url.endswith("/actions")) as answer:
        await page.evaluate("""() => {
            const form = document.querySelector("form.action");
            form.querySelector("input[name=action]").value = "payment-received";
            form.submit();
        }""")
    assert (await answer.value).status == 422  # the case as it is does not allow it: the domain's reason
    await page.wait_for_load_state()
    assert "cannot record a payment" in await page.locator("#action-error").inner_text()
    violations = await artefacts.check(page, "case-refused-action")
    await page.goto(f"{base}/cases/{code}")
    assert await page.locator("#case-state").get_attribute("data-state") == "2"
    assert not violations, dumps(violations)
