"""outbox: a partial index over the rows still to publish replaces (published_at, id)

The relay claims `WHERE published_at IS NULL ORDER BY id LIMIT n`; with the old index PostgreSQL could
walk the primary key and filter, at a cost that grew with the whole table (see libs/messaging/tables.py).

Revision ID: c9f5b2e4a137
Revises: ce94c2cf62f9
Create Date: 2026-11-26 15:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c9f5b2e4a137'
down_revision: str | None = 'ce94c2cf62f9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text('published_at IS NULL')


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unpublished')
        batch_op.create_index('ix_outbox_pending', ['id'], unique=False,
                              postgresql_where=_PENDING, sqlite_where=_PENDING)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending', postgresql_where=_PENDING, sqlite_where=_PENDING)
        batch_op.create_index('ix_outbox_unpublished', ['published_at', 'id'], unique=False)
