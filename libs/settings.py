"""Settings from the environment: `ONESTOP_*` for the whole suite, `ONESTOP_<SERVICE>_*` per service."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTOP_", extra="ignore")

    kafka_bootstrap: str = "localhost:9092"
    topic_partitions: int = 6
    topic_replication: int = 1
    run_dir: Path = REPO_ROOT / ".run"
    config_dir: Path = REPO_ROOT / "deploy" / "config"
    clock: Literal["system", "controlled"] = "system"
    log_level: str = "INFO"
    jwt_secret: str = "onestop-development-secret-change-me-in-production"  # HS256 in development only
    jwks_url: str | None = None
    # Latency traded for CPU: how long a consumer lets the broker gather records per fetch, and how long a
    # woken outbox relay waits for more commits to join its round (fuller batches, fewer round trips).
    consumer_fetch_wait_ms: int = 50
    relay_linger_ms: int = 10

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

    def group(self, service: str) -> str:
        return self.consumer_group or f"onestop-{service}"

    def db_url(self, service: str, common: CommonSettings) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{common.run_dir / 'data' / service}.db"
