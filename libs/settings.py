"""Settings from the environment: `ONESTOP_*` for the whole suite, `ONESTOP_<SERVICE>_*` per service."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


DEVELOPMENT_JWT_SECRET = "onestop-development-secret-change-me-in-production"
# Seals dead-letter bodies (libs/messaging/dlq.py) in development; a Fernet key anyone can read here.
DEVELOPMENT_DLQ_KEY = "b25lc3RvcC1kZXZlbG9wbWVudC1kbHEta2V5LTMyYnk="


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTOP_", extra="ignore")
    environment: Literal["development", "production"] = "development"

    kafka_bootstrap: str = "localhost:9092"
    # How every Kafka client of the process connects (libs/messaging/security.py; ADR 0014). PLAINTEXT is for
    # the development broker on localhost only: outside development a connection without TLS is refused.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None  # the service's own principal (one per service)
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None  # the broker's CA (PEM); default: the system's trusted CAs
    kafka_ssl_certfile: Path | None = None  # a client certificate, only for brokers that ask for one (mTLS)
    kafka_ssl_keyfile: Path | None = None
    topic_partitions: int = 6
    topic_replication: int = 1
    run_dir: Path = REPO_ROOT / ".run"
    config_dir: Path = REPO_ROOT / "deploy" / "config"
    clock: Literal["system", "controlled"] = "system"
    log_level: str = "INFO"
    jwt_secret: str = DEVELOPMENT_JWT_SECRET  # HS256 in development only
    jwks_url: str | None = None
    # A dead letter's body is the poison event as it came, personal data included: it is kept sealed with
    # this Fernet key (the same in every service, so `onestop dlq redrive` can open it).
    dlq_key: SecretStr = SecretStr(DEVELOPMENT_DLQ_KEY)
    jwt_issuer: str = "onestop"  # a token's `iss` must be this…
    jwt_audience: str = "onestop"  # …and its `aud` must name this (the identity provider's client id for OneStop)
    # Latency traded for CPU: how long a consumer lets the broker gather records per fetch, and how long a
    # woken outbox relay waits for more commits to join its round (fuller batches, fewer round trips).
    consumer_fetch_wait_ms: int = 50
    # Records wait and no batch came for this long: the consumer is restarted (libs/messaging/watchdog.py).
    consumer_stall_seconds: float = Field(default=90.0, gt=0)
    relay_linger_ms: int = 10

    def unsafe_outside_development(self) -> list[str]:
        """What makes these settings unfit for a real site; a service outside development refuses to start."""
        if self.environment == "development":
            return []
        problems = []
        if self.jwt_secret == DEVELOPMENT_JWT_SECRET:
            problems.append("ONESTOP_JWT_SECRET is the development secret anyone can read in the source")
        if not self.jwks_url:
            problems.append("ONESTOP_JWKS_URL is not set: officers' tokens must be checked against the identity "
                            "provider's keys")
        if self.dlq_key.get_secret_value() == DEVELOPMENT_DLQ_KEY:
            problems.append("ONESTOP_DLQ_KEY is the development key that seals dead letters' personal data")
        if self.clock == "controlled":
            problems.append("ONESTOP_CLOCK=controlled lets anyone move the service's time (demos and tests only)")
        if self.kafka_security_protocol in ("PLAINTEXT", "SASL_PLAINTEXT"):
            problems.append(f"ONESTOP_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} sends personal data "
                            "to Kafka without TLS: use SASL_SSL (or SSL)")
        return problems

    @property
    def clock_file(self) -> Path:
        return self.run_dir / "clock.json"

    def config_file(self, name: str) -> Path:
        """A file of the dated configuration (catalogue, calendar, notices) under ONESTOP_CONFIG_DIR."""
        return self.config_dir / name


class ServiceSettings(BaseSettings):
    """Per-service settings; subclasses set env_prefix and the default port."""

    model_config = SettingsConfigDict(extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str | None = None  # postgresql+asyncpg://… ; default: a SQLite file per service
    relay_enabled: bool = True
    consumer_group: str = ""  # default onestop-<service>; separate stacks on one broker need their own
    # Admission control (libs/runtime/admission.py): past these bounds a request gets 503 + Retry-After at once.
    max_in_flight: int = Field(default=8, ge=1)  # HTTP requests served at once (one event loop: more only queue)
    queue_max: int = Field(default=16, ge=0)  # more that may wait for a place…
    queue_wait_seconds: float = Field(default=0.5, ge=0)  # …this long at most
    public_in_flight: int = Field(default=4, ge=0)  # citizens' look-ups run only below this many (shed first)
    db_pool_timeout_seconds: float = Field(default=2.0, gt=0)  # wait for a database connection, then 503
    max_body_bytes: int = Field(default=1_048_576, ge=1024)  # a larger request body gets 413 before it is parsed

    def group(self, service: str) -> str:
        return self.consumer_group or f"onestop-{service}"

    def db_url(self, service: str, common: CommonSettings) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{common.run_dir / 'data' / service}.db"
