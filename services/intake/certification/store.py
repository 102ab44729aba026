"""The certification books, the electronic certified copies issued and the paper certification acts (tables
cert_books, certified_copies, paper_certifications).

Declared on intake's metadata (services.intake.store.tables.Base), so Alembic's autogenerate sees them wherever
this module is imported; migrations 5b8e2c4d7f19 and f2c7a9d4e631 create them. A book's numbers are given under
its row lock: the upsert of `take_numbers` locks the row (PostgreSQL) or the database (SQLite serialises writers)
until the transaction ends, so a copy whose signing or recording fails gives its number back (no gap), and a second
request waits for the first to commit (no duplicate)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field

from libs.db import increment_counter
from libs.db.types import UTCDateTime
from services.intake.certification.domain import BookKey, next_numbers
from services.intake.store.tables import DOSSIERS, Base


class CertBookRow(Base, table=True):
    """One certification book (sổ chứng thực): an agency's book of one type and medium for one year, and the
    last number it gave (docs/domain.md §4.1, §4.3)."""

    __tablename__ = "cert_books"

    agency: str = Field(primary_key=True, max_length=40)
    year: int = Field(primary_key=True)
    book_type: str = Field(primary_key=True, max_length=20)  # SCT/BS, …
    medium: str = Field(primary_key=True, max_length=20)  # paper | electronic
    book_no: int = Field(default=1, sa_column_kwargs={"server_default": sa.text("1")})  # quyển số
    last_number: int = 0


class CertifiedCopyRow(Base, table=True):
    """One electronic certified copy as issued: its entry in the book and the SHA-256 of the signed PDF. No
    personal data: the copy itself goes to the citizen; `pdf_key` names it in the document store once kept."""

    __tablename__ = "certified_copies"
    __table_args__ = (sa.Index("ix_certified_copies_entry", "agency", "year", "number"),)

    id: UUID = Field(primary_key=True)
    agency: str = Field(max_length=40)
    year: int
    book_type: str = Field(max_length=20)
    medium: str = Field(max_length=20)
    book_no: int
    number: int
    document_type: str = Field(max_length=200)
    copies: int
    sha256: str = Field(unique=True, max_length=64)
    size: int = Field(sa_type=sa.BigInteger)
    signer: str = Field(max_length=200)  # người thực hiện chứng thực, as the statement names them
    signer_title: str = Field(max_length=100)
    officer: str = Field(max_length=100)  # the desk officer who asked for it (sub)
    dossier_code: str | None = Field(default=None, max_length=64)
    received_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    signed_at: datetime = Field(sa_type=UTCDateTime)
    pdf_key: str | None = Field(default=None, max_length=80)


class PaperCertificationRow(Base, table=True):
    """One act entered in a PAPER book (the copies are stamped and signed by hand): its number, what and how many
    copies, who entered it, and the Idempotency-Key of the request that entered it (a repeat finds this row)."""

    __tablename__ = "paper_certifications"
    __table_args__ = (sa.UniqueConstraint("agency", "idempotency_key", name="uq_paper_certifications_key"),
                      sa.Index("ix_paper_certifications_entry", "agency", "year", "number"))

    id: UUID = Field(primary_key=True)
    agency: str = Field(max_length=40)
    year: int
    book_type: str = Field(max_length=20)
    book_no: int
    number: int
    document_type: str = Field(max_length=200)
    copies: int
    officer: str = Field(max_length=100)
    dossier_code: str | None = Field(default=None, max_length=64)
    idempotency_key: str = Field(max_length=200)
    certified_at: datetime = Field(sa_type=UTCDateTime)


CERT_BOOKS = CertBookRow.__table__  # type: ignore[attr-defined]
CERTIFIED_COPIES = CertifiedCopyRow.__table__  # type: ignore[attr-defined]
PAPER_CERTIFICATIONS = PaperCertificationRow.__table__  # type: ignore[attr-defined]


async def take_numbers(session: AsyncSession, book: BookKey, count: int) -> range:
    """The book's next `count` numbers, the book's row locked until the session's transaction ends."""
    keys = {"agency": book.agency, "year": book.year, "book_type": book.book_type.value,
            "medium": book.medium.value}
    last = await increment_counter(session, CERT_BOOKS, keys, "last_number", by=count)
    return next_numbers(last - count, count)


async def book_no(session: AsyncSession, book: BookKey) -> int:
    query = select(CERT_BOOKS.c.book_no).where(
        CERT_BOOKS.c.agency == book.agency, CERT_BOOKS.c.year == book.year,
        CERT_BOOKS.c.book_type == book.book_type.value, CERT_BOOKS.c.medium == book.medium.value)
    return int((await session.execute(query)).scalar_one())


@dataclass(frozen=True)
class Issued:
    """What the public check may tell: who issued the copy, when, under which entry. Nothing personal."""

    agency: str
    year: int
    number: int
    book_no: int
    book_type: str
    medium: str
    signed_at: datetime


async def find_issued(session: AsyncSession, sha256: str, number: int, year: int) -> Issued | None:
    """The copy with this SHA-256 entered under this number and year, if any (one index look-up: sha256)."""
    c = CERTIFIED_COPIES.c
    query = select(c.agency, c.year, c.number, c.book_no, c.book_type, c.medium, c.signed_at).where(
        c.sha256 == sha256, c.number == number, c.year == year)
    row = (await session.execute(query)).first()
    return Issued(*row) if row is not None else None


async def book_entries(session: AsyncSession, book: BookKey) -> list[int]:
    """The numbers recorded in a book, in order (the book as printed; the tests check it has no gap)."""
    c = CERTIFIED_COPIES.c
    query = (select(c.number).where(c.agency == book.agency, c.year == book.year,
                                    c.book_type == book.book_type.value, c.medium == book.medium.value)
             .order_by(c.number))
    return [int(n) for n in (await session.execute(query)).scalars()]


async def paper_book_entries(session: AsyncSession, book: BookKey) -> list[int]:
    """The numbers recorded in a paper book, in order."""
    c = PAPER_CERTIFICATIONS.c
    query = (select(c.number).where(c.agency == book.agency, c.year == book.year, c.book_type == book.book_type.value)
             .order_by(c.number))
    return [int(n) for n in (await session.execute(query)).scalars()]


@dataclass(frozen=True)
class PaperRecord:
    """A paper act as recorded (plain values: it outlives the transaction that read it)."""

    id: UUID
    agency: str
    year: int
    book_type: str
    book_no: int
    number: int
    document_type: str
    copies: int
    dossier_code: str | None
    certified_at: datetime


async def paper_act(session: AsyncSession, agency: str, key: str) -> PaperRecord | None:
    """The paper act an Idempotency-Key entered, if any."""
    c = PAPER_CERTIFICATIONS.c
    query = select(c.id, c.agency, c.year, c.book_type, c.book_no, c.number, c.document_type, c.copies,
                   c.dossier_code, c.certified_at).where(c.agency == agency, c.idempotency_key == key)
    row = (await session.execute(query)).first()
    return None if row is None else PaperRecord(**row._mapping)


async def dossier_served(session: AsyncSession, agency: str, code: str | None) -> tuple[UUID, str] | None:
    """(id, code) of the agency's dossier `code` names, if it is one (a certification made for that dossier)."""
    if not code:
        return None
    c = DOSSIERS.c
    query = select(c.id, c.code).where(c.code == code, c.receiving_agency == agency)
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])
