"""current step columns: the sweep words its warnings without reading the stored case

Revision ID: 7c1e2a9d4b60
Revises: 5547cbbff9cf
Create Date: 2026-11-27 09:00:00.000000
"""
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import libs.db.types

revision: str = '7c1e2a9d4b60'
down_revision: str | None = '5547cbbff9cf'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('step_code', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('step_name', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('step_deadline', libs.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('step_active', sa.Boolean(), nullable=False, server_default=sa.false()))
    _backfill()


def _backfill() -> None:
    """Copy each existing case's current step (`data.steps[data.current]`) into the new columns."""
    cases = sa.table(
        'cases', sa.column('dossier_id', sa.Uuid()), sa.column('data', sa.JSON()),
        sa.column('step_code', sa.String()), sa.column('step_name', sa.String()),
        sa.column('step_deadline', libs.db.types.UTCDateTime(timezone=True)), sa.column('step_active', sa.Boolean()),
    )
    bind = op.get_bind()
    rows: list[dict[str, Any]] = []
    for dossier_id, data in bind.execute(sa.select(cases.c.dossier_id, cases.c.data)):
        steps, current = data.get('steps', []), data.get('current', 0)
        if current >= len(steps):
            continue
        step = steps[current]
        deadline = step.get('deadline')
        rows.append({
            'id': dossier_id, 'code': step['code'], 'name': step['name'],
            'deadline': datetime.fromisoformat(deadline) if deadline else None,
            'active': step.get('started_at') is not None and step.get('completed_at') is None
            and not step.get('skipped', False),
        })
    if rows:
        bind.execute(
            cases.update().where(cases.c.dossier_id == sa.bindparam('id')).values(
                step_code=sa.bindparam('code'), step_name=sa.bindparam('name'),
                step_deadline=sa.bindparam('deadline'), step_active=sa.bindparam('active'),
            ),
            rows,
        )


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('step_active')
        batch_op.drop_column('step_deadline')
        batch_op.drop_column('step_name')
        batch_op.drop_column('step_code')
