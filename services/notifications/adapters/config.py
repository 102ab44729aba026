"""deploy/config/notifications.yaml → NotificationsConfig (policy, retry, e-mail, SMS, look-up link), and what
in it is unfit for a real site."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from services.notifications.adapters.email import SmtpSettings
from services.notifications.adapters.sms import SmsSettings
from services.notifications.adapters.urls import check_web_address, is_loopback_url
from services.notifications.domain.kinds import Channel, NoticeKind
from services.notifications.domain.policy import NotificationPolicy
from services.notifications.domain.retry import RetryPolicy

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[3] / "deploy" / "config" / "notifications.yaml"
SMTP_PASSWORD_ENV = "ONESTOP_NOTIFICATIONS_SMTP_PASSWORD"
SMS_TOKEN_ENV = "ONESTOP_NOTIFICATIONS_SMS_TOKEN"


class NotificationsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: NotificationPolicy = NotificationPolicy()
    retry: RetryPolicy = RetryPolicy()
    email: SmtpSettings = SmtpSettings()
    sms: SmsSettings = SmsSettings()
    lookup_url: str | None = None  # the citizens' look-up page (tra cứu hồ sơ), linked from every notice

    @field_validator("lookup_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        return None if value is None else check_web_address(value, "lookup_url")

    def in_use(self, channel: Channel) -> bool:
        """Whether any notice can go out on the channel."""
        return any(self.policy.enabled(kind, channel) for kind in NoticeKind)

    def unsafe_outside_development(self) -> list[str]:
        """What makes this configuration unfit for a real site (the service then refuses to start there):
        citizens' data in clear over the network, notices logged instead of sent, a link citizens cannot open."""
        problems: list[str] = []
        if self.in_use(Channel.EMAIL):
            problems += _email_problems(self.email)
        if self.in_use(Channel.SMS):
            problems += _sms_problems(self.sms)
        if self.in_use(Channel.EMAIL) or self.in_use(Channel.SMS):
            problems += _lookup_problems(self.lookup_url)
        return problems


def _email_problems(email: SmtpSettings) -> list[str]:
    if email.provider == "log":
        return ["email.provider is 'log' (ONESTOP_NOTIFICATIONS_EMAIL_PROVIDER): e-mails would be logged, not sent"]
    if not (email.starttls or email.use_tls):
        return ["SMTP without TLS: set email.starttls (ONESTOP_NOTIFICATIONS_SMTP_STARTTLS=true, port 587) or "
                "email.use_tls (implicit TLS, port 465); names, addresses and the SMTP password must not travel "
                "in clear"]
    return []


def _sms_problems(sms: SmsSettings) -> list[str]:
    if sms.provider == "console":
        return ["sms.provider is 'console' (ONESTOP_NOTIFICATIONS_SMS_PROVIDER): SMS would be logged, not sent"]
    if sms.http is not None and not sms.http.url.lower().startswith("https://"):
        return [f"the SMS gateway is reached over http ({sms.http.url}; ONESTOP_NOTIFICATIONS_SMS_URL): phone "
                "numbers, texts and the gateway token must go over https"]
    return []


def _lookup_problems(url: str | None) -> list[str]:
    if url is None:
        return ["lookup_url is not set (ONESTOP_NOTIFICATIONS_LOOKUP_URL): notices must link to the citizens' "
                "look-up page"]
    if not url.lower().startswith("https://"):
        return [f"lookup_url is not https ({url}; ONESTOP_NOTIFICATIONS_LOOKUP_URL): citizens must reach the "
                "real look-up page over https"]
    if is_loopback_url(url):
        return [f"lookup_url points to this machine ({url}): citizens cannot open it"]
    return []


def _with_secrets(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Secrets come from the environment, never from the file."""
    if environ.get(SMTP_PASSWORD_ENV):
        raw["email"] = {**(raw.get("email") or {}), "password": environ[SMTP_PASSWORD_ENV]}
    sms = raw.get("sms") or {}
    if environ.get(SMS_TOKEN_ENV) and sms.get("http"):
        raw["sms"] = {**sms, "http": {**sms["http"], "auth_token": environ[SMS_TOKEN_ENV]}}
    return raw


def parse_config(text: str, environ: Mapping[str, str] | None = None) -> NotificationsConfig:
    raw = yaml.safe_load(text) or {}
    if not isinstance(raw, dict):
        raise ValueError("notifications config must be a mapping")
    return NotificationsConfig.model_validate(_with_secrets(raw, os.environ if environ is None else environ))


def load_config(
    path: Path | str = DEFAULT_CONFIG_PATH, environ: Mapping[str, str] | None = None
) -> NotificationsConfig:
    return parse_config(Path(path).read_text(encoding="utf-8"), environ)


def load_policy(path: Path | str = DEFAULT_CONFIG_PATH) -> NotificationPolicy:
    return load_config(path).policy
