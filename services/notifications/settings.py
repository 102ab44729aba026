"""Settings of the notifications service (env prefix ONESTOP_NOTIFICATIONS_)."""

from pydantic_settings import SettingsConfigDict

from libs.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTOP_NOTIFICATIONS_", extra="ignore")

    port: int = 8003
