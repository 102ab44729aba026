"""Stamping and signing a certified copy (pyHanko, PAdES) with the development CA, and validating it: the
signature validates against the dev root, one changed byte anywhere fails, the statement is readable Vietnamese."""

from __future__ import annotations

import io
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fontTools.ttLib import TTFont
from pydantic import SecretStr
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfReader
from pypdf.generic import ContentStream

from deploy.local import dev_ca
from deploy.local.dev_ca import CaFiles, ensure
from services.intake.certification.domain import BookKey, CertificationNumber, Statement
from services.intake.certification.settings import CertificationSettings
from services.intake.certification.signing import (
    A4,
    AgencySigner,
    NotAPdf,
    Signed,
    readable,
    reduced_font,
    validate,
)
from tests.unit.intake.certification.support import AGENCY_NAME, flipped, scanned_original, settings_for
from tests.unit.intake.certification.support import dev_ca as make_ca

VN = ZoneInfo("Asia/Ho_Chi_Minh")
AT = datetime(2026, 12, 8, 2, 30, tzinfo=UTC)  # 09:30 in Hà Nội


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CaFiles:
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def signer(ca: CaFiles) -> AgencySigner:
    return AgencySigner(settings_for(ca))


def statement(order: int = 5) -> Statement:
    return Statement(AGENCY_NAME, "Giấy khai sinh", 2, CertificationNumber(order, BookKey("000.00.12.H55", 2026)),
                     "Nguyễn Văn An", "Phó Chủ tịch", AT.astimezone(VN))


@pytest.fixture(scope="module")
def original() -> bytes:
    return scanned_original()


@pytest.fixture(scope="module")
def signed(signer: AgencySigner, original: bytes) -> Signed:
    return signer.sign(original, statement(), AT)


# --- the development CA ----------------------------------------------------------------------------------------

def test_the_dev_ca_issues_a_signing_certificate_in_the_agencys_name(ca: CaFiles) -> None:
    agency = x509.load_pem_x509_certificate(ca.agency_cert.read_bytes())
    root = x509.load_pem_x509_certificate(ca.root_cert.read_bytes())
    usage = agency.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert agency.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == AGENCY_NAME
    assert agency.issuer == root.subject
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert stat.S_IMODE(ca.agency_key.stat().st_mode) == 0o600 and stat.S_IMODE(ca.root_key.stat().st_mode) == 0o600


def test_the_dev_ca_is_made_once_and_says_it_is_not_for_real_documents(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert dev_ca.main(["--folder", str(tmp_path)]) == 0
    first = (tmp_path / "agency.pem").read_bytes()
    assert ensure(CaFiles(tmp_path)) == []  # nothing missing: nothing written
    assert dev_ca.main(["--folder", str(tmp_path)]) == 0
    assert (tmp_path / "agency.pem").read_bytes() == first
    out = capsys.readouterr().out
    assert out.count("development CA — not for real documents") == 2 and str(tmp_path / "root.pem") in out


# --- signing and validating ------------------------------------------------------------------------------------

def test_the_copy_validates_with_pyhanko_against_the_dev_root(signed: Signed, ca: CaFiles) -> None:
    verdict = validate(signed.pdf, [ca.root_cert])
    assert verdict.ok, verdict.summary
    sig = PdfFileReader(io.BytesIO(signed.pdf)).embedded_signatures[0]
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES, not adbe.pkcs7.detached
    assert sig.self_reported_timestamp == AT  # the service's clock, not pyHanko's


def test_the_copy_keeps_the_scan_and_adds_a_readable_statement_page(signed: Signed, original: bytes) -> None:
    assert signed.pdf.startswith(original)  # one incremental update: the scan's bytes are untouched
    reader = PdfReader(io.BytesIO(signed.pdf))
    assert len(reader.pages) == len(PdfReader(io.BytesIO(original)).pages) + 1
    text = _appearance_text(reader)
    for expected in ("CHỨNG THỰC BẢN SAO ĐIỆN TỬ ĐÚNG VỚI BẢN CHÍNH", "Số chứng thực: 05", "01/2026-SCT/BS",
                     "ngày 08 tháng 12 năm 2026", "Phó Chủ tịch Nguyễn Văn An", "Giấy khai sinh"):
        assert expected in text


def _appearance_text(reader: PdfReader) -> str:
    """The statement as the signature widget's appearance draws it: its lines' /ActualText (what a reader copies
    out), after checking that the font that draws them is embedded (TrueType, /FontFile2)."""
    annotations: Any = reader.pages[-1]["/Annots"]
    annotation = next(a.get_object() for a in annotations if a.get_object().get("/FT") == "/Sig")
    appearance = annotation["/AP"]["/N"].get_object()
    for font in appearance["/Resources"]["/Font"].values():
        descendant = font.get_object()["/DescendantFonts"][0].get_object()
        assert "/FontFile2" in descendant["/FontDescriptor"], "the stamp's font must be embedded"
        widths = [w for entry in descendant["/W"] if isinstance(entry, list) for w in entry]
        assert widths and max(widths) <= 1100, "widths are thousandths of an em (else letters drift apart)"
    lines = [operands[1]["/ActualText"] for operands, operator in ContentStream(appearance, reader).operations
             if operator == b"BDC" and "/ActualText" in operands[1]]
    return "\n".join(lines)


@pytest.mark.parametrize("where", ["scan", "statement page", "signature value", "certificate carried",
                                   "padding", "last byte"])
def test_one_changed_byte_anywhere_fails_validation(signed: Signed, original: bytes, ca: CaFiles,
                                                    where: str) -> None:
    position = _position(signed.pdf, original, where)
    verdict = validate(flipped(signed.pdf, position), [ca.root_cert])
    assert not verdict.ok, f"a change at {position} ({where}) still validates: {verdict}"


def _position(pdf: bytes, original: bytes, where: str) -> int:
    sig = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    _, gap_start, gap_end, _ = (int(v) for v in sig.byte_range)
    der_hex = sig.pkcs7_content.hex().rstrip("0")
    root_hex = sig.signed_data["certificates"][-1].chosen.dump().hex()
    return {
        "scan": len(original) // 2,
        "statement page": (len(original) + gap_start) // 2,
        "signature value": gap_start + 1 + len(der_hex) - 10,
        "certificate carried": gap_start + 1 + pdf[gap_start + 1:gap_end].lower().index(root_hex[200:240].encode()),
        "padding": gap_end - 3,
        "last byte": len(pdf) - 2,
    }[where]


def test_an_original_that_is_itself_signed_keeps_its_signature(signer: AgencySigner, signed: Signed,
                                                               ca: CaFiles) -> None:
    again = signer.sign(signed.pdf, statement(9), AT)  # e.g. an electronic result signed by its issuer
    assert validate(again.pdf, [ca.root_cert]).ok
    first, ours = PdfFileReader(io.BytesIO(again.pdf)).embedded_signatures
    assert first.field_name != ours.field_name and first.byte_range != ours.byte_range


def test_a_copy_signed_under_another_root_is_not_trusted(signed: Signed, tmp_path: Path) -> None:
    stranger = make_ca(tmp_path / "stranger")
    verdict = validate(signed.pdf, [stranger.root_cert])
    assert verdict.intact and not verdict.trusted and not verdict.ok


@pytest.mark.parametrize("data", [b"hello", b"%PDF-1.7\nnot really a pdf", b""])
def test_what_is_not_a_pdf_is_refused_before_signing(data: bytes, signer: AgencySigner) -> None:
    with pytest.raises(NotAPdf):
        readable(data)
    with pytest.raises(NotAPdf):
        signer.sign(data, statement(), AT)


def test_a_receipt_sized_scan_gets_an_a4_statement_page(signer: AgencySigner, ca: CaFiles) -> None:
    copy = signer.sign(scanned_original(1, (200, 300)), statement(6), AT)
    last = PdfReader(io.BytesIO(copy.pdf)).pages[-1]
    assert (float(last.mediabox.width), float(last.mediabox.height)) == A4
    assert validate(copy.pdf, [ca.root_cert]).ok


def test_an_encrypted_agency_key_loads_with_its_passphrase(ca: CaFiles, tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(ca.agency_key.read_bytes(), password=None)
    locked = tmp_path / "agency.key"
    locked.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.BestAvailableEncryption(b"mat-khau-dung")))
    settings = settings_for(ca).model_copy(update={"key_file": locked, "key_passphrase": SecretStr("mat-khau-dung")})
    assert AgencySigner(settings).certificate.subject.native["common_name"] == AGENCY_NAME
    wrong = settings.model_copy(update={"key_passphrase": SecretStr("sai")})
    with pytest.raises(ValueError):
        AgencySigner(wrong)


def test_the_dev_ca_and_a_bare_key_are_unfit_outside_development(signer: AgencySigner, ca: CaFiles) -> None:
    problems = settings_for(ca).unsafe_outside_development(signer.issuer_names)
    assert any("development CA" in p for p in problems) and any("PASSPHRASE" in p for p in problems)


def test_the_stamps_font_has_a_glyph_for_every_character_of_the_statement(signer: AgencySigner) -> None:
    """A missing glyph would draw as an empty box (.notdef): every Vietnamese letter the statement uses is there."""
    font = TTFont(io.BytesIO(reduced_font(settings_for_font())))
    mapped = font["cmap"].getBestCmap()
    text = signer.statement_text(statement()) + "ĂÂÊÔƠƯĐăâêôơưđ ỲỴỶỸỳỵỷỹ ẠẢẤẦẨẪẬ"
    assert sorted({c for c in text if c != "\n" and ord(c) not in mapped}) == []
    assert len(reduced_font(settings_for_font())) < 200_000  # cut down from DejaVu's 750 kB
    assert font["head"].unitsPerEm == 1000  # what pyHanko's /W widths assume
    assert "fpgm" not in font and "prep" not in font  # no hinting left to misplace the scaled dots


def settings_for_font() -> Path:
    return CertificationSettings().font_file
