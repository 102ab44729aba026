"""Alembic environment of the reporting service (shared body in libs.db.alembic_env)."""

from libs.db.alembic_env import run
from services.reporting.store.tables import metadata

run(metadata, "reporting")
