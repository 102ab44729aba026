"""Settings of the reporting service (env prefix ONESTOP_REPORTING_)."""

from pydantic_settings import SettingsConfigDict

from libs.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTOP_REPORTING_", extra="ignore")

    port: int = 8004
