"""dossier_history: the hash chain of a dossier's record (issue 17 §4)

seq (place in the dossier's chain), prev_hash and hash (SHA-256 of the entry's canonical content and prev_hash,
services/intake/domain/chain.py), and a unique index on (dossier_id, seq): one chain per dossier, never a fork.
Entries written before this migration keep NULLs: each dossier's chain starts at its first entry written after.

Revision ID: d8f1a6c3b527
Revises: 5b8e2c4d7f19
Create Date: 2026-12-07 05:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)
from alembic import op

revision: str = 'd8f1a6c3b527'
down_revision: str | None = '5b8e2c4d7f19'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('dossier_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index('ix_dossier_history_chain', ['dossier_id', 'seq'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('dossier_history', schema=None) as batch_op:
        batch_op.drop_index('ix_dossier_history_chain')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
