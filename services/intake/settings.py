"""Settings of the intake service (env prefix ONESTOP_INTAKE_)."""

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from libs.settings import ServiceSettings
from services.intake.ratelimit import networks

DEVELOPMENT_SUBMISSION_SECRET = "onestop-development-submission-secret-change-me"


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTOP_INTAKE_", extra="ignore")

    port: int = 8001
    # Citizen look-up (public), see ratelimit.py. Per client address: a burst of this many, then this many a minute.
    lookup_burst: int = Field(default=10, ge=1)
    lookup_per_minute: float = Field(default=20.0, gt=0)
    # Per dossier code, whoever asks: this many failed look-ups, then this many a day (10,000 possible digits).
    lookup_code_failures: int = Field(default=10, ge=1)
    lookup_code_failures_per_day: float = Field(default=10.0, gt=0)
    lookup_max_keys: int = Field(default=100_000, ge=1)  # addresses and codes remembered, each (least recent go)
    # Reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For is believed; none by default, so a
    # client cannot choose its own address. Behind nginx on the same host: "127.0.0.1,::1".
    trusted_proxies: str = ""
    # The scans' orphan sweep (services/intake/documents.py): how often it looks; its grace period, the store and
    # the upload limits are the document store's settings (ONESTOP_STORAGE_*, libs/storage/settings.py).
    documents_sweep_enabled: bool = True
    documents_sweep_seconds: float = Field(default=3600.0, gt=0)
    # Online submissions (submissions.py): the key of the HMAC that makes each submission's upload token (the
    # token itself is never stored), and how many submissions one anonymous client may file: a burst, then a rate.
    submission_secret: SecretStr = SecretStr(DEVELOPMENT_SUBMISSION_SECRET)
    submission_burst: int = Field(default=5, ge=1)
    submission_per_minute: float = Field(default=2.0, gt=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: str) -> str:
        networks(value)  # a ValueError names the bad entry, at start-up
        return value

    def unsafe_outside_development(self) -> list[str]:
        """What makes these settings unfit for a real site (create_app refuses to start outside development)."""
        if self.submission_secret.get_secret_value() == DEVELOPMENT_SUBMISSION_SECRET:
            return ["ONESTOP_INTAKE_SUBMISSION_SECRET is the development key anyone can read in the source: anyone "
                    "could make the upload token of any online submission"]
        return []
