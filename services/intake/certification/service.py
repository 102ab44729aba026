"""The use cases: certify originals at the desk (number → stamp and sign → record, one unit of work) and the
public check of a copy (its number and the SHA-256 of its file).

One unit of work per act: the book's numbers are taken under its row lock (store.take_numbers), the copies are
signed while it is held, and the rows commit with the new last number or not at all, so a failure gives its
numbers back and the book never has a gap. The lock is held through the signing on purpose: the number is inside
the signed bytes. In front of it an in-process queue (`asyncio.Lock`) lets waiting requests wait without holding
a database connection; the row lock still orders several intake processes."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from libs.auth import Officer
from libs.calendar import WorkCalendar
from libs.clock import Clock
from libs.runtime.runtime import UnsafeSettings
from services.intake.certification import store
from services.intake.certification.domain import (
    BookKey,
    BookType,
    CertificationNumber,
    Medium,
    Original,
    Refused,
    Statement,
    book_for,
    check_received,
    due_at,
    number_groups,
    parse_reference,
)
from services.intake.certification.settings import CertificationSettings
from services.intake.certification.signing import AgencySigner, readable

log = logging.getLogger(__name__)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
Sessions = Callable[[], AsyncSession]


class NotThisAgency(Refused):
    """The officer's agency is not the one whose key this service holds."""


class SigningUnavailable(RuntimeError):
    """No agency key is loaded (development without the development CA): nothing can be certified now."""


@dataclass(frozen=True)
class Scan:
    """One original as scanned at the desk, with what the book records of it."""

    pdf: bytes
    original: Original


@dataclass(frozen=True)
class Act:
    """What the officer asks for at one time (§4.1: one number per document type certified at one time)."""

    scans: Sequence[Scan]
    received_at: datetime | None = None  # when the request reached the desk; now when not given
    dossier_code: str | None = None


@dataclass(frozen=True)
class IssuedCopy:
    id: uuid.UUID
    number: CertificationNumber
    document_type: str
    copies: int
    pdf: bytes
    sha256: str
    received_at: datetime
    due_at: datetime
    signed_at: datetime

    @property
    def on_time(self) -> bool:
        return self.signed_at <= self.due_at


@dataclass(frozen=True)
class Verdict:
    """The public answer: issued or not, and if so by whom, when and under which entry."""

    issued: bool
    agency: str | None = None
    agency_name: str | None = None
    number: str | None = None
    book: str | None = None
    medium: str | None = None
    signed_on: date | None = None


class Certification:
    def __init__(self, *, sessions: Sessions, signer: AgencySigner | None, settings: CertificationSettings,
                 calendar: WorkCalendar, clock: Clock) -> None:
        self._sessions = sessions
        self._signer = signer
        self._settings = settings
        self._calendar = calendar
        self._clock = clock
        self._queue = asyncio.Lock()

    @property
    def agency(self) -> str:
        return self._settings.agency

    @property
    def max_original_bytes(self) -> int:
        return self._settings.max_original_bytes

    async def certify(self, act: Act, officer: Officer) -> list[IssuedCopy]:
        """Certifies the act's originals: one number per document type, each scan signed; all or nothing."""
        if officer.agency != self.agency:
            raise NotThisAgency(f"this desk certifies for agency {self.agency} only")
        signer = self._loaded()
        now = self._clock.now()
        received = act.received_at or now
        check_received(received, now)
        groups = number_groups([scan.original for scan in act.scans])
        for scan in act.scans:  # refuse a bad scan before queueing for the book (parsing is CPU work: a thread)
            await asyncio.to_thread(readable, scan.pdf)
        due = due_at(received, self._calendar)
        async with self._queue, self._sessions() as session, session.begin():
            signed_at = self._clock.now()
            book = book_for(self.agency, signed_at, self._calendar.tz)
            numbers = await store.take_numbers(session, book, len(groups))
            book_no = await store.book_no(session, book)
            issued = []
            for order, positions in zip(numbers, groups, strict=True):
                number = CertificationNumber(order, book, book_no)
                for position in positions:
                    copy = await self._sign(signer, act.scans[position], number, received, due, signed_at)
                    session.add(self._row(copy, officer, act.dossier_code))
                    issued.append(copy)
        return issued

    def _loaded(self) -> AgencySigner:
        if self._signer is None:
            raise SigningUnavailable("no agency signing key is loaded: set ONESTOP_INTAKE_CERT_KEY_FILE and the "
                                     "like (development: deploy/local/dev_ca.py, which `make up` runs)")
        return self._signer

    async def _sign(self, signer: AgencySigner, scan: Scan, number: CertificationNumber, received: datetime,
                    due: datetime, signed_at: datetime) -> IssuedCopy:
        statement = Statement(
            agency_name=self._settings.agency_name, document_type=scan.original.document_type,
            copies=scan.original.copies, number=number, signer_name=self._settings.signer_name,
            signer_title=self._settings.signer_title, certified_at=signed_at.astimezone(self._calendar.tz))
        # CPU work (RSA, font subset) off the event loop; the book stays locked meanwhile (see the module doc).
        signed = await asyncio.to_thread(signer.sign, scan.pdf, statement, signed_at)
        return IssuedCopy(uuid.uuid4(), number, scan.original.document_type, scan.original.copies, signed.pdf,
                          signed.sha256, received, due, signed_at)

    def _row(self, copy: IssuedCopy, officer: Officer, dossier_code: str | None) -> store.CertifiedCopyRow:
        book = copy.number.book
        return store.CertifiedCopyRow(
            id=copy.id, agency=book.agency, year=book.year, book_type=book.book_type.value,
            medium=book.medium.value, book_no=copy.number.book_no, number=copy.number.order,
            document_type=copy.document_type, copies=copy.copies, sha256=copy.sha256, size=len(copy.pdf),
            signer=self._settings.signer_name, signer_title=self._settings.signer_title, officer=officer.sub,
            dossier_code=dossier_code, received_at=copy.received_at, due_at=copy.due_at, signed_at=copy.signed_at)

    async def verify(self, reference: str, sha256: str) -> Verdict:
        """Was a copy with this number ("05/2026") and this file hash issued? By whom, on which day."""
        order, year = parse_reference(reference)
        digest = sha256.strip().lower()
        if not _SHA256.match(digest):
            raise Refused("sha256 is the file's SHA-256 as 64 hexadecimal digits")
        async with self._sessions() as session:
            found = await store.find_issued(session, digest, order, year)
        if found is None:
            return Verdict(issued=False)
        book = BookKey(found.agency, found.year, BookType(found.book_type), Medium(found.medium))
        number = CertificationNumber(found.number, book, found.book_no)
        return Verdict(
            issued=True, agency=found.agency,
            agency_name=self._settings.agency_name if found.agency == self.agency else None,
            number=number.reference, book=number.book_label, medium=book.medium.value,
            signed_on=found.signed_at.astimezone(self._calendar.tz).date())

    async def book_entries(self, year: int) -> list[int]:
        """The numbers of this agency's electronic book of `year`, in order."""
        async with self._sessions() as session:
            return await store.book_entries(session, BookKey(self.agency, year))


def open_certification(*, sessions: Sessions, calendar: WorkCalendar, clock: Clock, environment: str,
                       settings: CertificationSettings | None = None) -> Certification:
    """The use case with the agency's key loaded (ONESTOP_INTAKE_CERT_*). Outside development a missing key, the
    development CA or an unencrypted key stops the start; in development a missing key only leaves certification
    unavailable (503), so intake still starts where `make up` has not made the development CA."""
    settings = settings or CertificationSettings()
    files = [settings.key_file, settings.cert_file, *settings.chain_files]
    if environment == "development" and not all(path.exists() for path in files):
        log.warning("certification unavailable: no agency key at %s (run deploy/local/dev_ca.py)", settings.key_file)
        return Certification(sessions=sessions, signer=None, settings=settings, calendar=calendar, clock=clock)
    signer = AgencySigner(settings)
    if environment != "development" and (problems := settings.unsafe_outside_development(signer.issuer_names)):
        raise UnsafeSettings("intake", environment, problems)
    return Certification(sessions=sessions, signer=signer, settings=settings, calendar=calendar, clock=clock)
