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
    # A scan upload's whole form (the console's body bound on that route): above the per-file limit plus the
    # form's envelope, so a file is refused with its reason below, never cut by a bare 413.
    max_upload_bytes: int = 32 * 1024 * 1024
    # Intake's limits (ONESTOP_STORAGE_MAX_FILE_BYTES / _MAX_DOSSIER_BYTES; keep them equal). Intake answers an
    # oversized upload before reading it and closes the connection, which resets the rest of the upload and loses
    # its 413; so the console, which knows the size before sending, refuses such a file itself, with intake's reason.
    upload_file_max_bytes: int = 20 * 1024 * 1024
    upload_dossier_max_bytes: int = 100 * 1024 * 1024

    @property
    def secure_cookies(self) -> bool:
        return self.environment != "development"
