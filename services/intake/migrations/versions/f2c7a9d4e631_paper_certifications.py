"""paper_certifications: acts certified on paper, entered in the agency's paper SCT/BS book (issue 17 §3)

One row per act (one number of the paper book, docs/domain.md §4.1, §4.3; the book's last number stays in
cert_books, medium paper): what and how many copies, the officer, the dossier served, and the request's
Idempotency-Key (unique per agency: a repeat finds its act). Table of services/intake/certification/store.py.

Revision ID: f2c7a9d4e631
Revises: d8f1a6c3b527
Create Date: 2026-12-07 10:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import libs.db.types

revision: str = 'f2c7a9d4e631'
down_revision: str | None = 'd8f1a6c3b527'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('paper_certifications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('book_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('book_no', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('document_type', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('officer', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('dossier_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('certified_at', libs.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agency', 'idempotency_key', name='uq_paper_certifications_key')
    )
    with op.batch_alter_table('paper_certifications', schema=None) as batch_op:
        batch_op.create_index('ix_paper_certifications_entry', ['agency', 'year', 'number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('paper_certifications', schema=None) as batch_op:
        batch_op.drop_index('ix_paper_certifications_entry')
    op.drop_table('paper_certifications')
