"""The look-up link is a configured address of the citizens' look-up page; outside development the service refuses
to start with SMTP without TLS, an http SMS gateway, notices only logged, or a look-up link that is not https."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from libs.runtime.runtime import UnsafeSettings
from libs.settings import CommonSettings
from services.notifications.adapters import ConsoleSms, LogEmail, Senders, SmtpSettings
from services.notifications.adapters.config import DEFAULT_CONFIG_PATH, load_config, parse_config
from services.notifications.domain import render, sample_context
from services.notifications.settings import NotificationsSettings

DEV = CommonSettings(environment="development")
PROD = CommonSettings(environment="production", jwt_secret="from-the-vault", jwks_url="https://id.example.vn/jwks")
REAL_SITE: dict[str, Any] = {  # what a ward's real deployment sets in its environment
    "email_provider": "smtp", "smtp_host": "smtp.example.vn", "smtp_port": 587, "smtp_starttls": True,
    "sms_provider": "http", "sms_url": "https://sms.example.vn/send", "lookup_url": "https://motcua.example.vn/tra-cuu",
}


def settings(**overrides: Any) -> NotificationsSettings:
    return NotificationsSettings(**{**REAL_SITE, **overrides})


def refusal(s: NotificationsSettings) -> str:
    with pytest.raises(UnsafeSettings) as refused:
        s.notifications_config(PROD)
    return str(refused.value)


# -- the look-up link -------------------------------------------------------------------------------------------


def test_the_link_is_the_consoles_look_up_page_in_development() -> None:
    config = load_config(DEFAULT_CONFIG_PATH)
    assert config.lookup_url == "http://127.0.0.1:8000/tra-cuu"
    ctx = sample_context("received").model_copy(update={"lookup_url": config.lookup_url})
    assert render("received", "sms", ctx).text.endswith("Tra cuu: http://127.0.0.1:8000/tra-cuu")
    html = render("received", "email", ctx).html
    assert html is not None and '<a href="http://127.0.0.1:8000/tra-cuu">' in html


def test_the_environment_sets_the_link(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESTOP_NOTIFICATIONS_LOOKUP_URL", "https://motcua.example.vn/tra-cuu")
    assert NotificationsSettings().notifications_config(DEV).lookup_url == "https://motcua.example.vn/tra-cuu"


@pytest.mark.parametrize("url", ["/tra-cuu", "motcua.example.vn/tra-cuu", "ftp://motcua.example.vn/tra-cuu",
                                 "javascript:alert(1)", "https://user:pw@motcua.example.vn/tra-cuu",
                                 "https://motcua.example.vn/tra cuu", "https://motcua.example.vn/\r\nBcc: x@evil.vn",
                                 "https://motcua.example.vn\t/tra-cuu", "https://motcua.example.vn:x/tra-cuu",
                                 "https:///tra-cuu"])
def test_a_link_that_is_not_a_web_address_is_refused_on_loading(url: str) -> None:
    with pytest.raises(ValidationError, match="lookup_url"):
        parse_config(f"lookup_url: {json.dumps(url)}", environ={})  # JSON is YAML: the string as it is
    with pytest.raises(ValidationError, match="lookup_url"):
        NotificationsSettings(lookup_url=url).notifications_config(DEV)


@dataclass(frozen=True)
class Row:
    kind: str = "received"
    key: str = "d:e:sms"
    context: dict[str, Any] = field(default_factory=lambda: sample_context("received").model_copy(
        update={"lookup_url": "http://localhost:8001/public/lookup"}).model_dump(mode="json"))


async def test_a_notice_planned_with_the_old_link_goes_out_with_the_configured_one() -> None:
    sms, mail = ConsoleSms(), LogEmail(SmtpSettings(provider="log"))
    config = settings(email_provider="log", sms_provider="console").notifications_config(DEV)
    senders = Senders(mail, sms, config.lookup_url)
    assert Senders.from_config(config).lookup_url == "https://motcua.example.vn/tra-cuu"
    await senders.send("sms", "0912345678", Row())
    await senders.send("email", "cong.dan@example.vn", Row(key="d:e:email"))
    [(_, text, _)] = sms.sent
    assert text.endswith("Tra cuu: https://motcua.example.vn/tra-cuu") and "public/lookup" not in text
    html = mail.sent[0].get_body(("html",))
    assert html is not None and '<a href="https://motcua.example.vn/tra-cuu">' in html.get_content()


async def test_without_a_configured_link_the_planned_one_stays() -> None:
    sms = ConsoleSms()
    await Senders(LogEmail(SmtpSettings(provider="log")), sms).send("sms", "0912345678", Row())
    assert sms.sent[0][1].endswith("Tra cuu: http://localhost:8001/public/lookup")


def test_an_http_sms_gateway_address_that_is_not_a_web_address_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"sms\.http\.url"):
        parse_config("sms: {provider: http, http: {url: 'sms.example.vn/send'}}", environ={})


# -- outside development -----------------------------------------------------------------------------------------


def test_a_real_sites_settings_start_in_production() -> None:
    config = settings().notifications_config(PROD)
    assert config.email.starttls and config.sms.http is not None
    assert config.sms.http.url == "https://sms.example.vn/send"
    assert config.lookup_url == "https://motcua.example.vn/tra-cuu"


def test_implicit_tls_is_as_good_as_starttls(tmp_path: Path) -> None:
    path = tmp_path / "notifications.yaml"
    path.write_text(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace("  use_tls: false", "  use_tls: true"),
                    encoding="utf-8")
    config = settings(config_file=path, smtp_starttls=False, smtp_port=465).notifications_config(PROD)
    assert config.email.use_tls and not config.email.starttls


def test_the_development_file_as_it_is_refuses_production_and_says_every_reason() -> None:
    message = refusal(NotificationsSettings())
    assert message.startswith("notifications refuses to start in production (ONESTOP_ENVIRONMENT): ")
    assert "email.provider is 'log'" in message
    assert "sms.provider is 'console'" in message
    assert "lookup_url is not https (http://127.0.0.1:8000/tra-cuu" in message


def test_smtp_without_starttls_is_refused_in_production() -> None:
    message = refusal(settings(smtp_starttls=False))
    assert "SMTP without TLS" in message and "ONESTOP_NOTIFICATIONS_SMTP_STARTTLS" in message
    assert "SMS" not in message and "lookup_url" not in message  # only what is wrong


def test_an_http_sms_gateway_is_refused_in_production() -> None:
    message = refusal(settings(sms_url="http://sms.example.vn/send"))
    assert "the SMS gateway is reached over http (http://sms.example.vn/send" in message
    assert "SMTP" not in message


@pytest.mark.parametrize(("url", "reason"), [
    ("http://motcua.example.vn/tra-cuu", "lookup_url is not https"),
    ("https://127.0.0.1:8000/tra-cuu", "lookup_url points to this machine"),
    ("https://localhost/tra-cuu", "lookup_url points to this machine"),
    ("https://[::1]/tra-cuu", "lookup_url points to this machine"),
])
def test_a_look_up_link_citizens_cannot_open_safely_is_refused_in_production(url: str, reason: str) -> None:
    assert reason in refusal(settings(lookup_url=url))


def test_a_missing_look_up_link_is_refused_in_production(tmp_path: Path) -> None:
    path = tmp_path / "notifications.yaml"
    path.write_text(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace("lookup_url: http", "# lookup_url: http"),
                    encoding="utf-8")
    assert load_config(path).lookup_url is None
    assert "lookup_url is not set" in refusal(settings(config_file=path, lookup_url=None))


def test_a_channel_switched_off_is_not_held_against_the_site(tmp_path: Path) -> None:
    path = tmp_path / "notifications.yaml"
    path.write_text(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace(
        "channels: {sms: true, email: true}", "channels: {sms: false, email: true}"), encoding="utf-8")
    config = settings(config_file=path, sms_provider="console", sms_url="http://sms.example.vn/send")
    assert config.notifications_config(PROD).sms.provider == "console"


def test_development_starts_with_anything() -> None:
    assert NotificationsSettings().notifications_config(DEV).email.provider == "log"
    assert settings(smtp_starttls=False, sms_url="http://localhost:8099/sms").notifications_config(DEV).sms.http


def test_starttls_and_implicit_tls_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="exclude each other"):
        SmtpSettings(starttls=True, use_tls=True)


def test_the_service_refuses_to_start_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.notifications import __main__ as entrypoint

    for name, value in {"ONESTOP_ENVIRONMENT": "production", "ONESTOP_JWT_SECRET": "from-the-vault",
                        "ONESTOP_JWKS_URL": "https://id.example.vn/jwks",
                        "ONESTOP_NOTIFICATIONS_EMAIL_PROVIDER": "smtp",
                        "ONESTOP_NOTIFICATIONS_SMTP_STARTTLS": "false"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(entrypoint, "serve", lambda *args: pytest.fail("served in spite of the refusal"))
    with pytest.raises(SystemExit) as stopped:
        entrypoint.main()
    message = str(stopped.value.code)
    assert message.startswith("notifications refuses to start in production (ONESTOP_ENVIRONMENT): ")
    assert "SMTP without TLS" in message


def test_the_service_starts_where_nothing_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.notifications import __main__ as entrypoint

    served: list[str] = []
    monkeypatch.setattr(entrypoint, "serve", lambda name, *args: served.append(name))
    entrypoint.main()  # development, the file as it is
    assert served == ["notifications"]
