"""notices: a partial index over the notices that may still go out replaces (status, next_attempt_at)

The delivery claim (`status = 'created' OR status = 'temporary_failure' AND next_attempt_at <= now`, oldest
first) read the whole table on PostgreSQL with the old index (see services/notifications/store.py).

Revision ID: d1a6c3f5b248
Revises: c9f5b2e4a137
Create Date: 2026-11-26 16:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd1a6c3f5b248'
down_revision: str | None = 'c9f5b2e4a137'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("status IN ('created', 'temporary_failure')")


def upgrade() -> None:
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_due')
        batch_op.create_index('ix_notices_pending', ['created_at'], unique=False,
                              postgresql_where=_PENDING, sqlite_where=_PENDING)


def downgrade() -> None:
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_pending', postgresql_where=_PENDING, sqlite_where=_PENDING)
        batch_op.create_index('ix_notices_due', ['status', 'next_attempt_at'], unique=False)
