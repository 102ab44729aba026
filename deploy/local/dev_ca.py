"""The development CA for electronic certified copies (issue 17 §3), for `make up` and the tests.

Creates, when missing, under <run dir>/ca/ (ONESTOP_RUN_DIR, default .run/):
  root.pem, root.key      a root CA "OneStop development CA" (its key only to issue the next agency certificate)
  agency.pem, agency.key  the agency's signing certificate (keyUsage digitalSignature + nonRepudiation, the agency's
                          name in the subject), the key PEM without a passphrase
and prints where they are. Intake's `CertificationSettings` (ONESTOP_INTAKE_CERT_*) point there by default.

Nothing made here is fit for real documents: a real agency's key and chain come from a licensed CA (in Viet Nam the
government's specialised CA or a licensed public one), set through ONESTOP_INTAKE_CERT_KEY_FILE and the like.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

REPO_ROOT = Path(__file__).resolve().parents[2]
ROOT_NAME = "OneStop development CA — not for real documents"
DEFAULT_AGENCY = "Ủy ban nhân dân phường Đức Xuân"  # the demo ward (deploy/config/agencies.yaml: 000.00.12.H55)
DEFAULT_PROVINCE = "Thái Nguyên"
ROOT_DAYS = 3650
AGENCY_DAYS = 730
KEY_BITS = 2048  # RSA: what every PDF reader in use checks


@dataclass(frozen=True)
class CaFiles:
    folder: Path

    @property
    def root_cert(self) -> Path:
        return self.folder / "root.pem"

    @property
    def root_key(self) -> Path:
        return self.folder / "root.key"

    @property
    def agency_cert(self) -> Path:
        return self.folder / "agency.pem"

    @property
    def agency_key(self) -> Path:
        return self.folder / "agency.key"


def default_folder() -> Path:
    return Path(os.environ.get("ONESTOP_RUN_DIR", REPO_ROOT / ".run")) / "ca"


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    # Created with 0600 from the start: the key is never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _name(common: str, organisation: str, province: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, province),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COMMON_NAME, common),
    ])


def make_root(now: datetime) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = _new_key()
    name = _name(ROOT_NAME, "OneStop (development)", DEFAULT_PROVINCE)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=ROOT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_agency(root_key: rsa.RSAPrivateKey, root: x509.Certificate, agency: str, province: str,
                now: datetime) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """The agency's signing certificate: only for signatures (digitalSignature + nonRepudiation, as PAdES
    signers of legally binding documents are expected to carry)."""
    key = _new_key()
    cert = (
        x509.CertificateBuilder().subject_name(_name(agency, agency, province)).issuer_name(root.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=AGENCY_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    return key, cert


def ensure(files: CaFiles, agency: str = DEFAULT_AGENCY, province: str = DEFAULT_PROVINCE) -> list[Path]:
    """Creates what is missing (a new root also renews the agency certificate); returns the files written."""
    files.folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    written: list[Path] = []
    if files.root_cert.exists() and files.root_key.exists():
        root_key = serialization.load_pem_private_key(files.root_key.read_bytes(), password=None)
        root = x509.load_pem_x509_certificate(files.root_cert.read_bytes())
        if not isinstance(root_key, rsa.RSAPrivateKey):
            raise SystemExit(f"{files.root_key}: not an RSA key; remove {files.folder} to start afresh")
    else:
        root_key, root = make_root(now)
        _write_key(files.root_key, root_key)
        _write_cert(files.root_cert, root)
        written += [files.root_cert, files.root_key]
        files.agency_cert.unlink(missing_ok=True)  # issued by a root that is gone
    if not (files.agency_cert.exists() and files.agency_key.exists()):
        key, cert = make_agency(root_key, root, agency, province, now)
        _write_key(files.agency_key, key)
        _write_cert(files.agency_cert, cert)
        written += [files.agency_cert, files.agency_key]
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=default_folder())
    parser.add_argument("--agency", default=DEFAULT_AGENCY, help="the agency's name, in its certificate's subject")
    parser.add_argument("--province", default=DEFAULT_PROVINCE)
    args = parser.parse_args(argv)
    files = CaFiles(args.folder)
    written = ensure(files, args.agency, args.province)
    state = "created" if written else "already there"
    print(f"  development CA — not for real documents ({state}):")
    print(f"    root      {files.root_cert}   (trust it to validate the copies)")
    print(f"    agency    {files.agency_cert}   key {files.agency_key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
