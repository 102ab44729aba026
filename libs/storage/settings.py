"""The document store's settings, `ONESTOP_STORAGE_*`: which backend, where, and the upload limits."""

from __future__ import annotations

import os
from ipaddress import ip_address
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from libs.settings import REPO_ROOT
from libs.storage.store import MIN_GRACE

MB = 1024 * 1024
# deploy/local/s3proxy/s3proxy.sh's fixed, public development identity: never a production credential.
DEVELOPMENT_S3_ACCESS_KEY = "onestop-dev"
DEVELOPMENT_S3_SECRET = "onestop-dev-secret"


def _default_folder() -> Path:
    # Same run dir as CommonSettings.run_dir (ONESTOP_RUN_DIR), read here so this module needs no service.
    return Path(os.environ.get("ONESTOP_RUN_DIR", REPO_ROOT / ".run")) / "documents"


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTOP_STORAGE_", extra="ignore")

    backend: Literal["folder", "s3"] = "folder"
    folder: Path = Field(default_factory=_default_folder)

    s3_endpoint: str | None = "http://127.0.0.1:9000"  # None: AWS's regional endpoint
    s3_bucket: str = "onestop-documents"
    s3_region: str = "us-east-1"
    s3_path_style: bool = True  # S3Proxy, MinIO, Ceph; False for AWS's virtual-hosted buckets
    s3_access_key_id: str | None = DEVELOPMENT_S3_ACCESS_KEY  # None: from the environment (AWS_*, IRSA, IMDS)
    s3_secret_access_key: SecretStr | None = SecretStr(DEVELOPMENT_S3_SECRET)
    s3_part_bytes: int = Field(default=8 * MB, ge=5 * MB)
    s3_max_concurrency: int = Field(default=2, ge=1)
    spool_dir: Path | None = None  # the S3 store's local temp files; default <system temp>/onestop-uploads

    max_file_bytes: int = Field(default=20 * MB, ge=1)
    max_dossier_bytes: int = Field(default=100 * MB, ge=1)
    orphan_grace_seconds: int = Field(default=24 * 3600, ge=int(MIN_GRACE.total_seconds()))

    def upload_limit(self, dossier_bytes: int) -> int:
        """The most the next file of a dossier already holding `dossier_bytes` may have: the per-file limit,
        or less when the dossier's own limit is nearer. The caller must still re-check the dossier's total
        when it commits the row (two uploads to one dossier may run at once)."""
        return max(0, min(self.max_file_bytes, self.max_dossier_bytes - dossier_bytes))

    def unsafe_outside_development(self) -> list[str]:
        if self.backend != "s3":
            return []
        problems = []
        secret = self.s3_secret_access_key
        if secret is not None and secret.get_secret_value() == DEVELOPMENT_S3_SECRET:
            problems.append("ONESTOP_STORAGE_S3_SECRET_ACCESS_KEY is the development secret anyone can read in "
                            "the source")
        if self.s3_endpoint and self.s3_endpoint.startswith("http://") and not _loopback(self.s3_endpoint):
            problems.append("ONESTOP_STORAGE_S3_ENDPOINT is plain http to another host: scans would cross the "
                            "network unencrypted")
        return problems


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
