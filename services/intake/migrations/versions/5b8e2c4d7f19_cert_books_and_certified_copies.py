"""cert_books and certified_copies: electronic certified copies from originals (issue 17 §3)

cert_books: one row per agency, year, book type and medium, holding the book's last number (docs/domain.md §4.1,
§4.3: numbering restarts at 01 each year; the row lock makes the numbers gap-free). certified_copies: one row per
signed copy, its book entry and the SHA-256 of the signed PDF (unique: the public check looks it up), the signer
and the times. Tables of services/intake/certification/store.py.

Revision ID: 5b8e2c4d7f19
Revises: c41d9e7b2f08
Create Date: 2026-12-07 05:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)
from alembic import op

import libs.db.types

revision: str = '5b8e2c4d7f19'
down_revision: str | None = 'c41d9e7b2f08'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cert_books',
    sa.Column('agency', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('book_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('medium', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('book_no', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('agency', 'year', 'book_type', 'medium')
    )
    op.create_table('certified_copies',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('book_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('medium', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('book_no', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('document_type', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('signer', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('signer_title', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('officer', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('dossier_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('received_at', libs.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', libs.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('signed_at', libs.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('pdf_key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sha256')
    )
    with op.batch_alter_table('certified_copies', schema=None) as batch_op:
        batch_op.create_index('ix_certified_copies_entry', ['agency', 'year', 'number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('certified_copies', schema=None) as batch_op:
        batch_op.drop_index('ix_certified_copies_entry')
    op.drop_table('certified_copies')
    op.drop_table('cert_books')
