"""submissions (online filing, docs/domain.md §5.2) and documents.kind (the signed result, issue 17 §1)

A submission waits for the desk's check; its id becomes the dossier's. `documents.kind` tells a checklist paper
(`paper`, every existing row) from the competent agency's signed result (`result`, item 0).

Revision ID: b6e19d3a4c72
Revises: f2c7a9d4e631
Create Date: 2026-12-07 11:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)
from alembic import op

import libs.db.types

revision: str = 'b6e19d3a4c72'
down_revision: str | None = 'f2c7a9d4e631'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('submissions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('receiving_agency', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('procedure_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('procedure_version', sa.Integer(), nullable=False),
    sa.Column('procedure_name', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('applicant_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('personal_id', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('online_payment', sa.Boolean(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('submitter', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('submitted_at', libs.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', libs.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('refusal_reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('dossier_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submissions_receiving_agency'), ['receiving_agency'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_state'), ['state'], unique=False)
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), server_default='paper',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submissions_state'))
        batch_op.drop_index(batch_op.f('ix_submissions_receiving_agency'))
    op.drop_table('submissions')
