"""The use cases: certify originals at the desk (number → stamp and sign → record, one unit of work) and the
public check of a copy (its number and the SHA-256 of its file); acts certified on paper entered in the paper book.

One unit of work per act: the book's numbers are taken under its row lock (store.take_numbers), the copies are
signed while it is held, and the rows commit with the new last number or not at all, so a failure gives its
numbers back and the book never has a gap. The lock is held through the signing on purpose: the number is inside
the signed bytes. In front of it an in-process queue (`asyncio.Lock`) lets waiting requests wait without holding
a database connection; the row lock still orders several intake processes.

Every act entered in a book (one number: electronic or paper) stages `CopyCertified` in intake's outbox in the
transaction that takes its number, so reporting counts both media (docs/domain.md §4.5); the relay is woken after
the commit."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.auth import Officer
from libs.calendar import WorkCalendar
from libs.clock import Clock
from libs.contracts.intake import CopyCertified
from libs.messaging import Outbox, enqueue
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
class PaperAct:
    """One document type certified on paper at one time (one number, `copies` copies), as the desk enters it."""

    original: Original
    key: str  # the request's Idempotency-Key: a repeat enters nothing and gets the same entry
    dossier_code: str | None = None


@dataclass(frozen=True)
class PaperEntry:
    """An act in the paper book, as the desk gets it back."""

    id: uuid.UUID
    number: CertificationNumber
    copies: int
    certified_at: datetime


class _Repeated(Exception):
    """Inside the book's lock: the Idempotency-Key entered an act meanwhile (rolls the new number back)."""

    def __init__(self, row: store.PaperRecord) -> None:
        super().__init__("repeated")
        self.row = row


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
                 calendar: WorkCalendar, clock: Clock, outbox: Outbox) -> None:
        self._sessions = sessions
        self._outbox = outbox
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
            served = await store.dossier_served(session, self.agency, act.dossier_code)
            issued = []
            for order, positions in zip(numbers, groups, strict=True):
                number = CertificationNumber(order, book, book_no)
                group = []
                for position in positions:
                    copy = await self._sign(signer, act.scans[position], number, received, due, signed_at)
                    session.add(self._row(copy, officer, act.dossier_code))
                    group.append(copy)
                event = self._certified(officer, served, group[0].id, number, sum(c.copies for c in group), signed_at)
                await enqueue(session, self._outbox.table, event, signed_at)
                issued.extend(group)
        self._outbox.wake()
        return issued

    async def certify_paper(self, act: PaperAct, officer: Officer) -> tuple[PaperEntry, bool]:
        """Enters a paper act in the agency's paper SCT/BS book of the year (next number, gap-free under the
        book's row lock, §4.1, §4.3). Returns the entry and whether this call entered it (False: the
        Idempotency-Key's earlier entry; Refused if that key entered another act)."""
        if officer.agency != self.agency:
            raise NotThisAgency(f"this desk certifies for agency {self.agency} only")
        async with self._sessions() as session:
            found = await store.paper_act(session, self.agency, act.key)
        if found is not None:
            return self._repeat(found, act), False
        try:
            entry = await self._enter_paper(act, officer)
        except _Repeated as repeated:
            return self._repeat(repeated.row, act), False
        except IntegrityError:  # the same key committed at once in another book (a new year's): read it back
            async with self._sessions() as session:
                found = await store.paper_act(session, self.agency, act.key)
            if found is None:
                raise
            return self._repeat(found, act), False
        self._outbox.wake()
        return entry, True

    async def _enter_paper(self, act: PaperAct, officer: Officer) -> PaperEntry:
        async with self._sessions() as session, session.begin():
            now = self._clock.now()
            book = book_for(self.agency, now, self._calendar.tz, medium=Medium.PAPER)
            (order,) = await store.take_numbers(session, book, 1)
            if (found := await store.paper_act(session, self.agency, act.key)) is not None:
                raise _Repeated(found)  # rolls the number back: the book keeps no gap
            number = CertificationNumber(order, book, await store.book_no(session, book))
            entry = PaperEntry(uuid.uuid4(), number, act.original.copies, now.astimezone(UTC))  # as stored
            session.add(store.PaperCertificationRow(
                id=entry.id, agency=self.agency, year=book.year, book_type=book.book_type.value,
                book_no=number.book_no, number=order, document_type=act.original.document_type,
                copies=entry.copies, officer=officer.sub, dossier_code=act.dossier_code, idempotency_key=act.key,
                certified_at=now))
            served = await store.dossier_served(session, self.agency, act.dossier_code)
            await enqueue(session, self._outbox.table, self._certified(officer, served, entry.id, number,
                                                                      entry.copies, now), now)
        return entry

    def _repeat(self, row: store.PaperRecord, act: PaperAct) -> PaperEntry:
        same = (row.document_type.casefold() == act.original.type_key and row.copies == act.original.copies
                and row.dossier_code == act.dossier_code)
        if not same:
            raise Refused("this Idempotency-Key was already used for another certification")
        book = BookKey(row.agency, row.year, BookType(row.book_type), Medium.PAPER)
        return PaperEntry(row.id, CertificationNumber(row.number, book, row.book_no), row.copies, row.certified_at)

    def _certified(self, officer: Officer, served: tuple[uuid.UUID, str] | None, own_id: uuid.UUID,
                   number: CertificationNumber, copies: int, at: datetime) -> CopyCertified:
        """The act's event: for the dossier it served, else under the entry's own id and printed reference."""
        dossier_id, code = served or (own_id, number.entry)
        return CopyCertified(dossier_id=dossier_id, code=code, agency=self.agency, actor=officer.sub, at=at,
                             medium=number.book.medium.value, book_type=number.book.book_type.value,
                             number=number.order, year=number.book.year, copies=copies, certified_at=at)

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

    async def book_entries(self, year: int, medium: Medium = Medium.ELECTRONIC) -> list[int]:
        """The numbers of this agency's book of `year` (electronic by default), in order."""
        book = BookKey(self.agency, year, medium=medium)
        async with self._sessions() as session:
            if medium is Medium.PAPER:
                return await store.paper_book_entries(session, book)
            return await store.book_entries(session, book)


def open_certification(*, sessions: Sessions, calendar: WorkCalendar, clock: Clock, environment: str,
                       outbox: Outbox, settings: CertificationSettings | None = None) -> Certification:
    """The use case with the agency's key loaded (ONESTOP_INTAKE_CERT_*). Outside development a missing key, the
    development CA or an unencrypted key stops the start; in development a missing key only leaves certification
    unavailable (503), so intake still starts where `make up` has not made the development CA."""
    settings = settings or CertificationSettings()
    files = [settings.key_file, settings.cert_file, *settings.chain_files]
    if environment == "development" and not all(path.exists() for path in files):
        log.warning("certification unavailable: no agency key at %s (run deploy/local/dev_ca.py)", settings.key_file)
        return Certification(sessions=sessions, signer=None, settings=settings, calendar=calendar, clock=clock,
                             outbox=outbox)
    signer = AgencySigner(settings)
    if environment != "development" and (problems := settings.unsafe_outside_development(signer.issuer_names)):
        raise UnsafeSettings("intake", environment, problems)
    return Certification(sessions=sessions, signer=signer, settings=settings, calendar=calendar, clock=clock,
                         outbox=outbox)
