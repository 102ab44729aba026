"""Settings of electronic certification, `ONESTOP_INTAKE_CERT_*`: the agency, its signing key and chain, the
signer named in the statement, the stamp's font, the size of an original.

The defaults are the development CA that `deploy/local/dev_ca.py` (run by `make up`) creates under
<ONESTOP_RUN_DIR>/ca/: fit for nothing but development (`unsafe_outside_development`)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from libs.settings import REPO_ROOT

MB = 1024 * 1024
DEVELOPMENT_CA_NAME = "OneStop development CA"  # the start of dev_ca.py's root name


def _ca_folder() -> Path:
    # The same run dir as CommonSettings.run_dir (ONESTOP_RUN_DIR) and deploy/local/dev_ca.py.
    return Path(os.environ.get("ONESTOP_RUN_DIR", REPO_ROOT / ".run")) / "ca"


class CertificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTOP_INTAKE_CERT_", extra="ignore")

    # The certifying agency: its e-ID (the desk officers who may certify belong to it) and its name as the
    # statement writes it. One key per intake deployment: a ward certifies with its own key only.
    agency: str = "000.00.12.H55"
    agency_name: str = "Ủy ban nhân dân phường Đức Xuân"
    key_file: Path = Field(default_factory=lambda: _ca_folder() / "agency.key")
    cert_file: Path = Field(default_factory=lambda: _ca_folder() / "agency.pem")
    chain_files: list[Path] = Field(default_factory=lambda: [_ca_folder() / "root.pem"])  # up to the root
    key_passphrase: SecretStr | None = None
    # Người thực hiện chứng thực (Decree 23/2015 Art. 5: the Chairman or a Vice-Chairman of the ward People's
    # Committee); the statement names them under the agency's signature.
    signer_name: str = "Nguyễn Văn An"
    signer_title: str = "Phó Chủ tịch"
    location: str = "Thái Nguyên"
    # A TrueType font with Vietnamese glyphs, embedded (subset) in the stamp: Debian's fonts-dejavu-core.
    font_file: Path = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    font_size: int = Field(default=10, ge=6, le=14)  # points, on a statement page of its own
    max_original_bytes: int = Field(default=20 * MB, ge=1)  # the scanned original, read whole into memory

    def unsafe_outside_development(self, issuer_names: list[str]) -> list[str]:
        """What makes the signing setup unfit for real copies; `issuer_names`: the subjects' common names of the
        chain as loaded (signing.AgencySigner.issuer_names)."""
        problems = []
        if any(name.startswith(DEVELOPMENT_CA_NAME) for name in issuer_names):
            problems.append("ONESTOP_INTAKE_CERT_* is the development CA of deploy/local/dev_ca.py: copies signed "
                            "with it have no legal value")
        if self.key_passphrase is None:
            problems.append("ONESTOP_INTAKE_CERT_KEY_PASSPHRASE is not set: the agency's key lies unencrypted on "
                            "disk")
        return problems
