"""Settings of the processing service (env prefix ONESTOP_PROCESSING_)."""

from pydantic_settings import SettingsConfigDict

from libs.settings import ServiceSettings


class ProcessingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTOP_PROCESSING_", extra="ignore")

    port: int = 8002
