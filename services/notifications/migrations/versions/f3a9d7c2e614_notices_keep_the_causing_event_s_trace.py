"""notices: keep the causing event's trace (trace)

A notice is sent by the delivery loop, outside the span of the event that called for it; with that event's
W3C traceparent stored on the notice, `notice.delivered` / `notice.failed` continue the dossier's trace, so
one trace runs from receipt to the last notice (issue 15 §3).

Revision ID: f3a9d7c2e614
Revises: d1a6c3f5b248
Create Date: 2026-12-07 05:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'f3a9d7c2e614'
down_revision: str | None = 'd1a6c3f5b248'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trace', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_column('trace')
