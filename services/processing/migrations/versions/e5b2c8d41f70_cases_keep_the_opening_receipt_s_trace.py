"""cases: keep the opening receipt's trace (trace)

The deadline sweep runs in a loop of its own, outside any consumed event's span; with the receipt's W3C
traceparent stored on the case, the warnings it stages (`case.due_soon`, `case.overdue`, …) continue the
dossier's trace, so one trace runs from receipt to the last notice (issue 15 §3).

Revision ID: e5b2c8d41f70
Revises: c41d7e9a2b15
Create Date: 2026-12-07 05:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'e5b2c8d41f70'
down_revision: str | None = 'c41d7e9a2b15'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trace', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('trace')
