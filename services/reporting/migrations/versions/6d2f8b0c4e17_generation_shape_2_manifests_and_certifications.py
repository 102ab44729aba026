"""generation shape 2: manifest counts on the facts, certification facts (issue 17 §1, §3)

The generation tables (rm<N>_…) are created by the service from the code's shape (store/tables.py); this
revision brings the generations that already exist to shape 2: rm<N>_facts gains documents_scanned,
documents_reused and scanned_items (0 / empty on existing rows), and rm<N>_certified_daily is created (acts and
copies per agency, local day and medium, from copy.certified). The new columns are derived data: rows folded
before this revision keep 0 until `python -m services.reporting.rebuild` refills the read model from Kafka.

Revision ID: 6d2f8b0c4e17
Revises: 3877dc6cc6b7
Create Date: 2026-12-07 10:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


def manifest_columns() -> list[sa.Column[int | str]]:  # as store/tables.py declares them at shape 2
    return [sa.Column("documents_scanned", sa.Integer(), nullable=False, server_default="0"),
            sa.Column("documents_reused", sa.Integer(), nullable=False, server_default="0"),
            sa.Column("scanned_items", sa.String(400), nullable=False, server_default="")]


def certified_daily_table(md: sa.MetaData, prefix: str) -> sa.Table:
    return sa.Table(
        f"{prefix}certified_daily", md,
        sa.Column("agency", sa.String(40), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("medium", sa.String(10), primary_key=True),
        sa.Column("acts", sa.Integer(), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
    )

revision: str = '6d2f8b0c4e17'
down_revision: str | None = '3877dc6cc6b7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _generations() -> list[int]:
    rows = op.get_bind().execute(sa.text("SELECT generation FROM read_model_generations WHERE status <> 'dropped'"))
    return [int(generation) for (generation,) in rows]


def upgrade() -> None:
    bind = op.get_bind()
    for generation in _generations():
        prefix = f"rm{generation}_"
        inspector = sa.inspect(bind)
        if not inspector.has_table(f"{prefix}facts"):
            continue
        present = {c["name"] for c in inspector.get_columns(f"{prefix}facts")}
        for column in manifest_columns():
            if column.name not in present:
                op.add_column(f"{prefix}facts", column)
        certified_daily_table(sa.MetaData(), prefix).create(bind, checkfirst=True)
        op.execute(sa.text("UPDATE read_model_generations SET shape = 2 WHERE generation = :g").bindparams(
            g=generation))


def downgrade() -> None:
    bind = op.get_bind()
    for generation in _generations():
        prefix = f"rm{generation}_"
        inspector = sa.inspect(bind)
        if not inspector.has_table(f"{prefix}facts"):
            continue
        op.execute(f"DROP TABLE IF EXISTS {prefix}certified_daily")
        with op.batch_alter_table(f"{prefix}facts") as batch:
            for column in manifest_columns():
                batch.drop_column(column.name)
        op.execute(sa.text("UPDATE read_model_generations SET shape = 1 WHERE generation = :g").bindparams(
            g=generation))
