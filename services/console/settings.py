"""Settings of the console (env prefix ONESTOP_CONSOLE_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import SettingsConfigDict

from libs.settings import REPO_ROOT, ServiceSettings


class ConsoleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTOP_CONSOLE_", extra="ignore")

    port: int = 8000
    environment: Literal["development", "production"] = "development"  # production: Secure cookies
    intake_url: str = "http://127.0.0.1:8001"
    processing_url: str = "http://127.0.0.1:8002"
    notifications_url: str = "http://127.0.0.1:8003"
    reporting_url: str = "http://127.0.0.1:8004"
    # Signs the session cookie; must be set (and kept secret) in production.
    session_secret: str = "onestop-console-development-secret"
    session_minutes: int = 480  # one working day; then sign in again
    # Sign-in: "local" checks deploy/config/officers.yaml and mints development tokens; "oidc" uses the issuer.
    auth: Literal["local", "oidc"] = "local"
    directory_file: Path = REPO_ROOT / "deploy" / "config" / "officers.yaml"
    oidc_issuer: str = ""  # e.g. https://id.example.gov.vn/realms/onestop (its discovery document is read)
    oidc_client_id: str = "onestop-console"
    oidc_client_secret: str = ""
    oidc_scope: str = "openid profile"
    public_url: str = "http://127.0.0.1:8000"  # where the issuer sends the officer back (redirect URI base)
    page_size: int = 20

    @property
    def secure_cookies(self) -> bool:
        return self.environment != "development"
