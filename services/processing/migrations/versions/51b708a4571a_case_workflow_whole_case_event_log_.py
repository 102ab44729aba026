"""case workflow: whole case, event log, sweep columns

The skeleton's `cases` rows held only a procedure snapshot (no steps, no receipt time), so they cannot
become workflow cases: the table is recreated. Development databases lose their skeleton cases;
no release ever shipped that table.

Revision ID: 51b708a4571a
Revises: 479fb00e3e53
Create Date: 2026-11-26 10:13:40.679293
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import libs.db.types

revision: str = '51b708a4571a'
down_revision: str | None = '479fb00e3e53'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table('cases')  # its indexes go with it
    op.create_table(
        'cases',
        sa.Column('dossier_id', sa.Uuid(), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('procedure_code', sa.String(length=64), nullable=False),
        sa.Column('receiving_agency', sa.String(length=40), nullable=False),
        sa.Column('competent_agency', sa.String(length=40), nullable=False),
        sa.Column('holder_agency', sa.String(length=40), nullable=False),
        sa.Column('state', sa.Integer(), nullable=False),
        sa.Column('sub_state', sa.String(length=40), nullable=True),
        sa.Column('appointment_at', libs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ack_due_at', libs.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('overdue', sa.Boolean(), nullable=False),
        sa.Column('extended', sa.Boolean(), nullable=False),
        sa.Column('flags', sa.JSON(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('event_seq', sa.Integer(), nullable=False),
        sa.Column('opened_at', libs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', libs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('closed_at', libs.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('dossier_id'),
    )
    op.create_index('ix_cases_code', 'cases', ['code'], unique=True)
    op.create_index('ix_cases_receiving_agency', 'cases', ['receiving_agency'])
    op.create_index('ix_cases_competent_agency', 'cases', ['competent_agency'])
    op.create_index('ix_cases_holder_appointment', 'cases', ['holder_agency', 'appointment_at'])
    op.create_index('ix_cases_state', 'cases', ['state'])
    op.create_index('ix_cases_state_appointment', 'cases', ['state', 'appointment_at'])
    op.create_index('ix_cases_ack_due_at', 'cases', ['ack_due_at'])
    op.create_index('ix_cases_overdue', 'cases', ['overdue'])

    op.create_table(
        'case_events',
        sa.Column('dossier_id', sa.Uuid(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('type', sa.String(length=80), nullable=False),
        sa.Column('at', libs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('agency', sa.String(length=40), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('dossier_id', 'seq'),
    )


def downgrade() -> None:
    op.drop_table('case_events')
    op.drop_table('cases')
    op.create_table(
        'cases',
        sa.Column('dossier_id', sa.Uuid(), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('procedure_code', sa.String(length=64), nullable=False),
        sa.Column('receiving_agency', sa.String(length=40), nullable=False),
        sa.Column('competent_agency', sa.String(length=40), nullable=False),
        sa.Column('holder_agency', sa.String(length=40), nullable=False),
        sa.Column('state', sa.String(length=40), nullable=False),
        sa.Column('appointment_at', libs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('opened_at', libs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', libs.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('dossier_id'),
    )
    op.create_index('ix_cases_code', 'cases', ['code'], unique=True)
    op.create_index('ix_cases_competent_agency', 'cases', ['competent_agency'])
    op.create_index('ix_cases_holder_agency', 'cases', ['holder_agency'])
    op.create_index('ix_cases_receiving_agency', 'cases', ['receiving_agency'])
    op.create_index('ix_cases_state', 'cases', ['state'])
