"""Settings of the notifications service (env prefix ONESTOP_NOTIFICATIONS_).

The YAML file (deploy/config/notifications.yaml, or CONFIG_FILE) holds the policy, retry schedule and
channel settings; the variables below override the deployment-specific parts of it. Outside development
(ONESTOP_ENVIRONMENT=production) the service refuses to start with SMTP without TLS, an http SMS gateway,
notices only logged, or a look-up link that is not https (NotificationsConfig.unsafe_outside_development). Secrets:
ONESTOP_NOTIFICATIONS_SMTP_PASSWORD and ONESTOP_NOTIFICATIONS_SMS_TOKEN (read by the config loader). The consumer
group, like every service's, is ONESTOP_NOTIFICATIONS_CONSUMER_GROUP (default onestop-notifications)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import PositiveFloat, PositiveInt
from pydantic_settings import SettingsConfigDict

from libs.runtime.runtime import UnsafeSettings
from libs.settings import CommonSettings, ServiceSettings
from services.notifications.adapters.config import NotificationsConfig, load_config


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTOP_NOTIFICATIONS_", extra="ignore")

    port: int = 8003
    config_file: Path | None = None  # default: <ONESTOP_CONFIG_DIR>/notifications.yaml

    # Channels (override the YAML file)
    email_provider: Literal["smtp", "log"] | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_starttls: bool | None = None
    smtp_user: str | None = None
    sms_provider: Literal["console", "http"] | None = None
    sms_url: str | None = None
    lookup_url: str | None = None  # the citizens' look-up page linked from notices; https outside development

    # Delivery loop
    delivery_enabled: bool = True
    poll_seconds: PositiveFloat = 1.0
    batch_size: PositiveInt = 50
    concurrency: PositiveInt = 8  # sends in flight
    sending_timeout_seconds: PositiveFloat = 60.0  # a notice `sending` longer than this was interrupted
    retry_initial_seconds: PositiveFloat | None = None
    retry_max_seconds: PositiveFloat | None = None
    retry_window_seconds: PositiveFloat | None = None

    def notifications_config(self, common: CommonSettings) -> NotificationsConfig:
        """The file with the environment put over it; UnsafeSettings outside development when it is unfit."""
        config = apply_overrides(load_config(self.config_file or common.config_dir / "notifications.yaml"), self)
        if common.environment != "development" and (problems := config.unsafe_outside_development()):
            raise UnsafeSettings("notifications", common.environment, problems)
        return config


def _set(target: dict[str, Any], name: str, value: object) -> None:
    if value is not None:
        target[name] = value


def apply_overrides(config: NotificationsConfig, s: NotificationsSettings) -> NotificationsConfig:
    """The YAML config with the environment's values put over it."""
    email = config.email.model_dump()
    _set(email, "provider", s.email_provider)
    _set(email, "host", s.smtp_host)
    _set(email, "port", s.smtp_port)
    _set(email, "starttls", s.smtp_starttls)
    _set(email, "username", s.smtp_user)
    sms = config.sms.model_dump()
    _set(sms, "provider", s.sms_provider)
    if s.sms_url is not None:
        sms["http"] = {**(sms.get("http") or {}), "url": s.sms_url}
    retry = config.retry.model_dump()
    _set(retry, "initial_delay_seconds", s.retry_initial_seconds)
    _set(retry, "max_delay_seconds", s.retry_max_seconds)
    _set(retry, "window_seconds", s.retry_window_seconds)
    if retry["max_delay_seconds"] < retry["initial_delay_seconds"]:
        retry["max_delay_seconds"] = retry["initial_delay_seconds"]
    lookup_url = config.lookup_url if s.lookup_url is None else s.lookup_url
    return NotificationsConfig.model_validate(
        {**config.model_dump(), "email": email, "sms": sms, "retry": retry, "lookup_url": lookup_url}
    )
