"""A result PDF signed by a competent agency, as its own signing tool would hand it to OneStop: PAdES with a
certificate that the run's development CA (deploy/local/dev_ca.py) issues to that agency. pyHanko runs an event
loop of its own: from async code, call `signed_pdf` in a thread."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

from deploy.local.dev_ca import DEFAULT_PROVINCE, CaFiles, make_agency
from tests.unit.intake.certification.support import scanned_original


def signed_pdf(ca_folder: Path, agency_name: str, pages: int = 2) -> bytes:
    signer = _signer(CaFiles(ca_folder), agency_name)
    out = io.BytesIO()
    writer = IncrementalPdfFileWriter(io.BytesIO(scanned_original(pages)))
    signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name="KetQua"), signer=signer, output=out)
    return out.getvalue()


def _signer(files: CaFiles, agency_name: str) -> signers.SimpleSigner:
    root_key = serialization.load_pem_private_key(files.root_key.read_bytes(), password=None)
    root = x509.load_pem_x509_certificate(files.root_cert.read_bytes())
    assert isinstance(root_key, rsa.RSAPrivateKey)
    key, cert = make_agency(root_key, root, agency_name, DEFAULT_PROVINCE, datetime.now(UTC))
    folder = files.folder / "agencies"
    folder.mkdir(exist_ok=True)
    key_file, cert_file = folder / f"{cert.serial_number}.key", folder / f"{cert.serial_number}.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    signer = signers.SimpleSigner.load(str(key_file), str(cert_file), ca_chain_files=(str(files.root_cert),))
    assert signer is not None, "pyHanko could not load the agency's key"
    return signer
