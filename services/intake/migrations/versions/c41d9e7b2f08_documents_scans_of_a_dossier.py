"""documents: the scans of a dossier's papers, references to content-addressed objects (issue 17 §1)

One row per scan: the object's key and SHA-256, its size, the type sniffed from its bytes, its checklist item and
digitisation state (DOMAIN.md §1.5). An upload's Idempotency-Key is unique per dossier. `key` is indexed for the
orphan sweep, which asks which of a batch of keys any row references.

Revision ID: c41d9e7b2f08
Revises: a7d3f0c2e915
Create Date: 2026-12-07 05:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)
from alembic import op

import libs.db.types

revision: str = 'c41d9e7b2f08'
down_revision: str | None = 'a7d3f0c2e915'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('documents',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('dossier_id', sa.Uuid(), nullable=False),
    sa.Column('checklist_item', sa.Integer(), nullable=False),
    sa.Column('item_name', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('digitisation', sa.Integer(), nullable=False),
    sa.Column('reused_from', sa.Uuid(), nullable=True),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('uploaded_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('uploaded_at', libs.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('announced_at', libs.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dossier_id', 'idempotency_key', name='uq_documents_dossier_key')
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_key'), ['key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_key'))
        batch_op.drop_index(batch_op.f('ix_documents_dossier_id'))
    op.drop_table('documents')
