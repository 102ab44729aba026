"""The console without any service: sign-in and sessions, CSRF, the OIDC PKCE request, which actions are offered,
form parsing and time colouring. Fast; no Kafka, no database, no browser."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient

from libs.auth import Officer
from services.console.actions import offers
from services.console.app import create_app
from services.console.directory import Directory
from services.console.oidc import Oidc, Provider
from services.console.pages import forms
from services.console.pages.auth import safe_next
from services.console.settings import ConsoleSettings
from services.console.web import time_left

NOWHERE = {f"{s}_url": "http://127.0.0.1:9" for s in ("intake", "processing", "notifications", "reporting")}
WARD, LAND = "000.00.12.H55", "000.01.05.H55"


def client(**overrides: Any) -> TestClient:
    return TestClient(create_app(ConsoleSettings(**{**NOWHERE, **overrides})), follow_redirects=False)


def sign_in(c: TestClient, username: str = "ward.desk", password: str = "motcua-ward-2026",
            next_path: str = "/") -> Any:
    form = c.get("/sign-in", params={"next": next_path})
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return c.post("/sign-in", data={"username": username, "password": password, "csrf_token": token,
                                    "next": next_path})


def test_sign_in_sets_an_httponly_samesite_cookie_and_goes_to_the_page_asked_for() -> None:
    c = client()
    r = sign_in(c, next_path="/queue?state=4")
    assert r.status_code == 303 and r.headers["location"] == "/queue?state=4"
    cookie = r.headers["set-cookie"]
    assert "onestop_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # development
    assert c.get("/").status_code == 200


def test_secure_cookie_outside_development() -> None:
    c = client(environment="production")
    c.base_url = "https://testserver"  # type: ignore[assignment]
    assert "Secure" in sign_in(c).headers["set-cookie"]


def test_wrong_password_unknown_user_and_missing_csrf_are_refused() -> None:
    c = client()
    assert sign_in(c, password="nope").status_code == 401
    assert sign_in(c, username="nobody").status_code == 401
    assert c.post("/sign-in", data={"username": "ward.desk", "password": "motcua-ward-2026"}).status_code == 403


def test_pages_without_a_session_go_to_sign_in_with_the_way_back() -> None:
    c = client()
    r = c.get("/queue", params={"state": "4"})
    assert r.status_code == 303 and r.headers["location"] == "/sign-in?next=%2Fqueue%3Fstate%3D4"
    htmx = c.get("/queue", headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/queue?page=2"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"] == "/sign-in?next=%2Fqueue%3Fpage%3D2"


def test_an_expired_session_returns_to_sign_in() -> None:
    app = create_app(ConsoleSettings(**NOWHERE))
    c = TestClient(app, follow_redirects=False)
    sign_in(c)
    store = app.state.console.sessions
    store.now = lambda: datetime.now(UTC).timestamp() + 9 * 3600  # past the 8-hour session
    r = c.get("/desk")
    assert r.status_code == 303 and r.headers["location"] == "/sign-in?next=%2Fdesk"


def test_posts_need_the_session_csrf_token() -> None:
    c = client()
    sign_in(c)
    assert c.post("/desk/receive", data={"procedure_code": "1.001193"}).status_code == 403
    assert c.post("/sign-out", data={"csrf_token": "forged"}).status_code == 403
    home = c.get("/")
    token = home.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    out = c.post("/sign-out", data={"csrf_token": token})
    assert out.status_code == 303 and c.get("/").status_code == 303  # signed out


def test_roles_guard_pages() -> None:
    c = client()
    sign_in(c, username="ward.reports")
    assert c.get("/desk").status_code == 403
    assert c.get("/queue").status_code == 403


@pytest.mark.parametrize("value", ["//evil.example/x", "https://evil.example", "\\\\evil", "", None])
def test_next_stays_on_this_site(value: str | None) -> None:
    assert safe_next(value) == "/"


def test_directory_checks_argon2_hashes() -> None:
    directory = Directory.load(ConsoleSettings().directory_file)
    account = directory.check("land.head", "motcua-land-2026")
    assert account is not None and account.agency == LAND and account.roles == ("department_head",)
    assert directory.check("land.head", "motcua-ward-2026") is None
    raw = ConsoleSettings().directory_file.read_text()
    assert "motcua-land-2026" not in raw and "$argon2id$" in raw


async def test_oidc_asks_for_the_code_with_a_s256_pkce_challenge() -> None:
    oidc = Oidc("https://id.example", "console", "", "openid", "http://console/auth/callback", "secret")
    oidc._provider = Provider("https://id.example/auth", "https://id.example/token", "https://id.example/jwks")
    url, cookie = await oidc.start("/queue")
    query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
    pending = oidc.pending(cookie, query["state"])
    digest = hashlib.sha256(pending["verifier"].encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert pending["next"] == "/queue"
    with pytest.raises(Exception, match="state"):
        oidc.pending(cookie, "another-state")


def _case(**over: Any) -> dict[str, Any]:
    steps = [
        {"code": "receive", "owner": "receiving", "role": "desk_officer", "agency": WARD, "status": "done"},
        {"code": "assign", "owner": "competent", "role": "department_head", "agency": LAND, "status": "done"},
        {"code": "review", "owner": "competent", "role": "specialist", "agency": LAND, "status": "done"},
        {"code": "head", "owner": "competent", "role": "department_head", "agency": LAND, "status": "done"},
        {"code": "sign", "owner": "competent", "role": "department_head", "agency": LAND, "status": "active"},
        {"code": "issue", "owner": "competent", "role": "specialist", "agency": LAND, "status": "pending"},
        {"code": "return", "owner": "receiving", "role": "desk_officer", "agency": WARD, "status": "pending"},
    ]
    return {"state": 4, "holder_agency": LAND, "receiving_agency": WARD, "closed_at": None, "extended": False,
            "handoffs": [], "steps": steps, **over}


def officer(agency: str, *roles: str) -> Officer:
    return Officer("x", "x", frozenset(roles), agency)


def test_offers_follow_the_holder_the_step_and_the_role() -> None:
    head = [o.action for o in offers(_case(), officer(LAND, "department_head"))]
    assert {"approve", "reject", "complete-step", "request-supplement"} <= set(head)
    assert "approve" not in [o.action for o in offers(_case(), officer(LAND, "specialist"))]
    assert offers(_case(), officer(WARD, "desk_officer", "specialist")) == []  # not the holder
    pending = _case(handoffs=[{"to_agency": LAND, "pending": True}])
    assert [o.action for o in offers(pending, officer(LAND, "specialist"))] == ["acknowledge"]
    assert offers(pending, officer(WARD, "desk_officer")) == []
    result = _case(state=9)
    assert [o.action for o in offers(result, officer(LAND, "specialist"))] == ["return"]
    assert offers(_case(closed_at="2026-01-01T00:00:00+00:00"), officer(LAND, "department_head")) == []


def test_procedure_search_ignores_case_and_diacritics() -> None:
    birth = {"code": "1.001193", "name": "Đăng ký khai sinh"}
    assert forms.matches(birth, "dang ky khai sinh") and forms.matches(birth, "KHAI SINH")
    assert forms.matches(birth, "1.0011") and not forms.matches(birth, "kết hôn")


def test_time_left_colours() -> None:
    now = datetime(2026, 1, 5, 8, tzinfo=UTC)
    assert time_left((now + timedelta(days=3)).isoformat(), now=now)[0] == "within"
    assert time_left((now + timedelta(hours=5)).isoformat(), now=now)[0] == "soon"
    assert time_left((now - timedelta(hours=1)).isoformat(), now=now)[0] == "overdue"
    assert time_left((now + timedelta(days=3)).isoformat(), overdue=True, now=now)[0] == "overdue"


async def test_the_procedure_cache_reads_intake_once_per_period() -> None:
    from services.console.catalogue import TTL_SECONDS, ProcedureCache

    calls: list[str] = []

    class Intake:
        async def json(self, service: str, method: str, path: str) -> list[dict[str, Any]]:
            calls.append(path)
            return [{"code": "1.013833", "steps": [{"code": "review", "role": "specialist"}]}]

    clock = [0.0]
    cache = ProcedureCache(Intake(), now=lambda: clock[0])  # type: ignore[arg-type]
    assert await cache.step_role("1.013833", "review") == "specialist"
    assert await cache.step_role("1.013833", None) is None
    assert len(calls) == 1
    clock[0] += TTL_SECONDS + 1
    await cache.procedures()
    assert len(calls) == 2


async def test_without_intake_the_queue_goes_on_without_step_roles() -> None:
    from services.console.catalogue import RETRY_SECONDS, ProcedureCache
    from services.console.client import ServiceError

    calls: list[str] = []

    class Down:
        async def json(self, service: str, method: str, path: str) -> Any:
            calls.append(path)
            raise ServiceError(503, "intake is down")

    clock = [0.0]
    cache = ProcedureCache(Down(), now=lambda: clock[0])  # type: ignore[arg-type]
    assert await cache.step_role("1.013833", "review") is None
    assert await cache.step_role("1.013833", "review") is None
    assert len(calls) == 1  # not asked again on every row
    clock[0] += RETRY_SECONDS + 1
    await cache.step_role("1.013833", "review")
    assert len(calls) == 2


def test_malformed_dossier_codes_never_reach_a_service() -> None:
    c = client()
    sign_in(c)
    for path in ("/cases/-x", "/desk/dossiers/.hidden", "/notices/a%20b", "/desk/dossiers/X/slips/..%2Fx"):
        r = c.get(path)
        assert r.status_code == 404 and "Không thực hiện được" in r.text, path
    assert c.get("/desk/find", params={"code": "../../admin"}).status_code == 404


def test_a_form_posted_after_the_session_expired_returns_to_its_page() -> None:
    c = client()
    r = c.post("/desk/receive", data={"csrf_token": "x"},
               headers={"Referer": "http://testserver/desk/new?procedure=1.001193"})
    assert r.status_code == 303 and r.headers["location"] == "/sign-in?next=%2Fdesk%2Fnew%3Fprocedure%3D1.001193"
    assert c.post("/desk/receive", data={}).headers["location"] == "/sign-in?next=%2F"


def test_five_wrong_passwords_lock_the_name_for_a_while() -> None:
    clock = [0.0]
    directory = Directory.load(ConsoleSettings().directory_file)
    directory.now = lambda: clock[0]
    for _ in range(5):
        assert directory.check("ward.head", "guess") is None
    assert directory.locked("ward.head")
    assert directory.check("ward.head", "motcua-ward-2026") is None  # even the right one, for now
    assert directory.check("ward.specialist", "motcua-ward-2026") is not None  # other names are not affected
    clock[0] += 901
    assert directory.check("ward.head", "motcua-ward-2026") is not None
