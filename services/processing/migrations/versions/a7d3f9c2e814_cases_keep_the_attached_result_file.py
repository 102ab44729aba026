"""cases: keep the attached result file (result_file)

The competent agency attaches its signed result at intake (`dossier.result_attached`, issue 17 §1); the case
records the file's manifest entry, who attached it, from which agency and when, and the decision's
`case.result_ready` carries it as the electronic result (docs/domain.md §4.4).

Revision ID: a7d3f9c2e814
Revises: e5b2c8d41f70
Create Date: 2026-12-07 10:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a7d3f9c2e814'
down_revision: str | None = 'e5b2c8d41f70'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('result_file', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('result_file')
