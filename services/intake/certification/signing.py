"""Stamp the certification statement on a scanned original and sign it as PAdES (B-B) with the agency's key.

The copy is the original's own bytes plus one incremental update: a statement page (trang lời chứng) after the
last page, carrying the signature's visible appearance (the statement, Vietnamese text in an embedded subset of
DejaVu Sans), and the signature over the whole file. The scan is never drawn over, and its bytes stay the copy's
first bytes. Signing is CPU work (font subsetting, RSA): callers run `sign` in a worker thread.

Validation (`validate`) trusts only the configured chain's root and fetches nothing: it is what the tests and an
operator's check use; the public check (service.py) compares the file's SHA-256 with the book instead."""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import parser as asn1_parser
from asn1crypto import x509 as asn1_x509
from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.api import FontEngineFactory
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import AxisAlignment, InnerScaling, Margins, SimpleBoxLayoutRule
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter, PageObject
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import PdfSigningSession
from pyhanko.sign.validation import EmbeddedPdfSignature, validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext

from services.intake.certification.domain import Refused, Statement
from services.intake.certification.settings import CertificationSettings

TEMPLATES = Path(__file__).parent / "templates"
STATEMENT_TEMPLATE = "statement.vi.txt.j2"
FIELD_NAME = "ChungThucDienTu"
A4 = (595, 842)  # points: the statement page's size when the last page has none we can read
MARGIN = 40
STAMP_HEIGHT = 150
# Room for the CMS object beyond the certificates it carries (signature value, signed attributes), in bytes: the
# room is reserved from the chain's size rather than estimated, because pyHanko's estimate signs a second time.
SIGNATURE_OVERHEAD = 4_096
PDF_GLYPH_UNITS = 1000  # a PDF font's glyph space: 1000 units per em
LEADING = 1.6  # line distance per font size: room for the stacked marks of Vietnamese capitals (Ứ, Ỷ)
# The statement from the box's top left corner, shrunk only if a long document type would not fit.
STATEMENT_LAYOUT = SimpleBoxLayoutRule(x_align=AxisAlignment.ALIGN_MIN, y_align=AxisAlignment.ALIGN_MAX,
                                       margins=Margins(12, 12, 12, 12),
                                       inner_content_scaling=InnerScaling.SHRINK_TO_FIT)
# The characters a statement may need: ASCII, Latin-1, Latin Extended-A/B (ă, đ, ơ, ư), combining marks and
# the Vietnamese precomposed letters (U+1EA0–U+1EF9), dashes and quotes.
STATEMENT_UNICODES = [
    *range(0x20, 0x7F), *range(0xA0, 0x250), *range(0x300, 0x324), *range(0x1EA0, 0x1EFA),
    0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x2116,
]


class NotAPdf(Refused):
    """The original is not a PDF pyHanko can read (or it is encrypted)."""


@dataclass(frozen=True)
class Signed:
    pdf: bytes
    sha256: str


@functools.lru_cache(maxsize=4)  # a second signer (another process's settings, a test) reuses the work
def reduced_font(path: Path) -> bytes:
    """The font cut down, once, to the statement's characters and without layout tables: the per-copy subset
    (done by pyHanko for every stamp) then works on ~80 kB instead of DejaVu's 750 kB and takes milliseconds
    instead of half a second. Vietnamese needs no shaping: every letter has a precomposed glyph."""
    font = TTFont(str(path))
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False  # instructions written for 2048 units per em misplace the dots once scaled (i, :)
    options.drop_tables += ["FFTM", "GPOS", "GSUB", "GDEF", "kern"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=STATEMENT_UNICODES)
    subsetter.subset(font)
    # pyHanko writes the glyphs' widths (/W) in font units, which PDF reads as thousandths of an em: right only
    # for a font of 1000 units per em. DejaVu has 2048, so its letters would be drawn twice as far apart.
    scale_upem(font, PDF_GLYPH_UNITS)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class _FontInMemory(FontEngineFactory):
    """pyHanko's GlyphAccumulatorFactory reads a font file each time; this hands it the reduced font's bytes."""

    data: bytes
    font_size: int

    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream: object = None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs:
            obj_stream = writer.prepare_object_stream()
        return GlyphAccumulator(writer=writer, font_handle=io.BytesIO(self.data), font_size=self.font_size,
                                obj_stream=obj_stream)


class _SignerAt(signers.PdfSigner):
    """A PdfSigner whose signing time is the service's clock (the demo clock too), so the time in the signature,
    in the stamp and in the book are one."""

    def __init__(self, *args: object, at: datetime, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._at = at

    def init_signing_session(self, pdf_out: BasePdfFileWriter, existing_fields_only: bool = False
                             ) -> PdfSigningSession:
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._at
        return session


class AgencySigner:
    """The agency's key and chain, the statement template and the stamp's font, loaded once at start-up."""

    def __init__(self, settings: CertificationSettings) -> None:
        passphrase = settings.key_passphrase.get_secret_value().encode() if settings.key_passphrase else None
        signer = signers.SimpleSigner.load(
            str(settings.key_file), str(settings.cert_file),
            ca_chain_files=tuple(str(p) for p in settings.chain_files), key_passphrase=passphrase)
        if signer is None:  # pyHanko logs why and answers None rather than raising
            raise ValueError(f"cannot load the agency's signing key {settings.key_file} and certificate "
                             f"{settings.cert_file} (wrong passphrase, or not PEM/DER?)")
        self._signer = signer
        self._settings = settings
        carried = [signer.signing_cert, *signer.cert_registry]
        # pyHanko counts the room in hexadecimal digits: two per byte.
        self._reserve = 2 * (SIGNATURE_OVERHEAD + sum(len(cert.dump()) for cert in carried))
        self._font = _FontInMemory(reduced_font(settings.font_file), settings.font_size)
        self._templates = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                                      autoescape=False, keep_trailing_newline=False)

    @property
    def certificate(self) -> asn1_x509.Certificate:
        cert: asn1_x509.Certificate = self._signer.signing_cert
        return cert

    @property
    def issuer_names(self) -> list[str]:
        """The common names of the certificates above the agency's (for the development-CA check)."""
        return [str(c.subject.native.get("common_name", "")) for c in self._signer.cert_registry
                if c != self.certificate]

    def statement_text(self, statement: Statement) -> str:
        return self._templates.get_template(STATEMENT_TEMPLATE).render(statement.context()).strip()

    def sign(self, original: bytes, statement: Statement, at: datetime) -> Signed:
        """The certified copy: `original` with its statement page, signed by the agency at `at` (PAdES B-B)."""
        writer = _open(original)
        # Named after the entry: an original that is itself a signed copy keeps its field and signature.
        field = f"{FIELD_NAME}-{statement.number.book.year}-{statement.number.order:02d}"
        width, height = _append_statement_page(writer)
        top = int(height) - MARGIN
        box = (MARGIN, top - STAMP_HEIGHT, int(width) - MARGIN, top)
        meta = signers.PdfSignatureMetadata(
            field_name=field, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
            reason="Chứng thực bản sao điện tử từ bản chính", location=self._settings.location,
            name=self._settings.agency_name)
        size = self._settings.font_size
        style = TextStampStyle(
            stamp_text="%(statement)s", border_width=1,
            text_box_style=TextBoxStyle(font=self._font, font_size=size, leading=round(size * LEADING)),
            inner_content_layout=STATEMENT_LAYOUT)
        pdf_signer = _SignerAt(meta, signer=self._signer, stamp_style=style, at=at,
                               new_field_spec=fields.SigFieldSpec(field, on_page=-1, box=box))
        out = pdf_signer.sign_pdf(writer, bytes_reserved=self._reserve,
                                  appearance_text_params={"statement": self.statement_text(statement)})
        pdf = out.getvalue()
        return Signed(pdf, hashlib.sha256(pdf).hexdigest())


def readable(original: bytes) -> None:
    """Refuses (NotAPdf) what `AgencySigner.sign` could not sign: not a PDF, encrypted, no pages."""
    _page_count(_open(original))


def _open(original: bytes) -> IncrementalPdfFileWriter:
    if not original.startswith(b"%PDF-"):
        raise NotAPdf("the original must be a PDF scan (its bytes do not start with %PDF-)")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(original), strict=False)  # scanners write sloppy PDFs
    except (PdfError, ValueError, KeyError, IndexError) as exc:
        raise NotAPdf("the original is not a PDF that can be read") from exc
    if writer.prev.encrypted:
        raise NotAPdf("the original is an encrypted PDF: scan it again without a password")
    return writer


def _append_statement_page(writer: IncrementalPdfFileWriter) -> tuple[float, float]:
    """A blank page after the last one, of the same size (A4 when it cannot be read); its size."""
    _page_count(writer)
    try:
        last = writer.find_page_for_modification(-1)[0].get_object()
        box = [float(v) for v in last["/MediaBox"]]  # an inherited MediaBox is not looked for: A4 then
        width, height = box[2] - box[0], box[3] - box[1]
    except (PdfError, KeyError, IndexError, TypeError, ValueError):
        width, height = A4
    if width < 2 * MARGIN + 200 or height < 2 * MARGIN + STAMP_HEIGHT:
        width, height = A4  # a receipt-sized scan: the statement still gets a readable page
    media = generic.ArrayObject([generic.FloatObject(0), generic.FloatObject(0), generic.FloatObject(width),
                                 generic.FloatObject(height)])
    writer.insert_page(PageObject(contents=writer.add_object(generic.StreamObject(stream_data=b"")),
                                  media_box=media))
    return width, height


def _page_count(writer: IncrementalPdfFileWriter) -> int:
    try:
        pages = int(writer.root["/Pages"]["/Count"])
    except (PdfError, KeyError, TypeError, ValueError) as exc:
        raise NotAPdf("the original has no page tree") from exc
    if pages < 1:
        raise NotAPdf("the original has no pages")
    return pages


@dataclass(frozen=True)
class Validation:
    """pyHanko's verdict on a copy's signature: intact (the bytes are those signed), valid (the cryptography
    holds), trusted (the chain reaches the configured root), and whether the signature covers the whole file."""

    intact: bool
    valid: bool
    trusted: bool
    whole_file: bool
    summary: str

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.whole_file


def validate(pdf: bytes, trust_roots: list[Path]) -> Validation:
    """Validates the copy's (last) signature against `trust_roots` (PEM/DER files), offline, and insists that the
    bytes the signature cannot cover (its own /Contents) hold exactly the signature and zero padding: pyHanko
    ignores what follows the signature there, so without this a changed padding byte would still validate."""
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(p)) for p in trust_roots],
                                allow_fetching=False)
    try:
        signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
        if not signatures:
            return Validation(False, False, False, False, "no signature")
        ours = signatures[-1]  # the agency's, last; an original signed by its issuer keeps its own before it
        status = validate_pdf_signature(ours, context)
    except (SignatureValidationError, PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        return Validation(False, False, False, False, f"{type(exc).__name__}: {exc}")
    whole = status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
    intact = status.intact and _contents_exact(pdf, ours) and _only_path_certificates(status, ours)
    return Validation(intact, status.valid, status.trusted, whole, status.summary())


def _only_path_certificates(status: PdfSignatureStatus, signature: EmbeddedPdfSignature) -> bool:
    """Every certificate carried in the signature is one of the validated path (agency → root): the CMS
    certificate set is not signed, so a changed copy of the root there would otherwise pass unnoticed."""
    if status.validation_path is None:
        return False
    path = {cert.dump() for cert in status.validation_path.iter_certs(include_root=True)}
    carried = signature.signed_data["certificates"]
    return all(choice.chosen.dump() in path for choice in carried)


def _contents_exact(pdf: bytes, signature: EmbeddedPdfSignature) -> bool:
    """The gap in the byte range is `<` + the hex of the CMS object + zeros + `>`, nothing else."""
    try:
        _, start, end, _ = (int(v) for v in signature.byte_range)
        gap = pdf[start:end]
        if gap[:1] != b"<" or gap[-1:] != b">":
            return False
        raw = bytes.fromhex(gap[1:-1].decode("ascii"))
        _, _, _, header, contents, _ = asn1_parser.parse(raw)  # the outer DER element; padding is trailer
    except (ValueError, TypeError):
        return False
    used = len(header) + len(contents)
    return raw[:used] == signature.pkcs7_content[:used] and not any(raw[used:])
