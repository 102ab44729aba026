"""What the certification tests share: a scanned original (a small real PDF), the development CA in a temporary
folder, and settings that point at it."""

from __future__ import annotations

import io
from pathlib import Path

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from deploy.local.dev_ca import CaFiles, ensure
from services.intake.certification.settings import CertificationSettings

AGENCY_NAME = "Ủy ban nhân dân phường Đức Xuân"


def scanned_original(pages: int = 2, size: tuple[int, int] = (595, 842)) -> bytes:
    """A PDF standing for a scan: `pages` pages with a line of content each."""
    writer = PdfFileWriter()
    for n in range(pages):
        content = f"BT /F1 18 Tf 72 720 Td (Original page {n + 1}) Tj ET".encode()
        media = generic.ArrayObject([generic.NumberObject(0), generic.NumberObject(0),
                                     generic.NumberObject(size[0]), generic.NumberObject(size[1])])
        writer.insert_page(PageObject(contents=writer.add_object(generic.StreamObject(stream_data=content)),
                                      media_box=media))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def dev_ca(folder: Path) -> CaFiles:
    files = CaFiles(folder)
    ensure(files, AGENCY_NAME)
    return files


def settings_for(files: CaFiles, agency: str = "000.00.12.H55") -> CertificationSettings:
    return CertificationSettings(agency=agency, agency_name=AGENCY_NAME, key_file=files.agency_key,
                                 cert_file=files.agency_cert, chain_files=[files.root_cert])


def flipped(data: bytes, position: int) -> bytes:
    """`data` with one bit of one byte changed."""
    changed = bytearray(data)
    changed[position] ^= 0x01
    return bytes(changed)
