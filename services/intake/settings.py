"""Settings of the intake service (env prefix ONESTOP_INTAKE_)."""

from pydantic_settings import SettingsConfigDict

from libs.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTOP_INTAKE_", extra="ignore")

    port: int = 8001
    # Citizen look-up (public): a burst of this many requests per client IP, then this many per minute.
    lookup_burst: int = 10
    lookup_per_minute: float = 20.0
