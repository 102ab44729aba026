"""cases: remember the last officer change (officer_version, officer_change)

An officer's action names the version it was decided on; a case changed since only by the system's own
writers (the sweep, the consumers) is decided again on the fresh case, while a change another officer made
in between is refused with 409 naming it (issue 18). These two columns say which was the last officer change.

Revision ID: c41d7e9a2b15
Revises: b8e4a1d3f026
Create Date: 2026-12-07 02:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c41d7e9a2b15'
down_revision: str | None = 'b8e4a1d3f026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('officer_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('officer_change', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('officer_change')
        batch_op.drop_column('officer_version')
