"""Settings of the intake service (env prefix ONESTOP_INTAKE_)."""

from pydantic_settings import SettingsConfigDict

from libs.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTOP_INTAKE_", extra="ignore")

    port: int = 8001
    # The desk this process serves when a request names no agency (until officer tokens carry it).
    default_agency: str = "000.00.12.H55"
