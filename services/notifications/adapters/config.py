"""deploy/config/notifications.yaml → NotificationsConfig (policy, retry, e-mail, SMS)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from services.notifications.adapters.email import SmtpSettings
from services.notifications.adapters.sms import SmsSettings
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
    lookup_url: str | None = None  # citizen status look-up page, shown in notices


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
