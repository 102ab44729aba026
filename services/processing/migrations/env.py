"""Alembic environment of the processing service (shared body in libs.db.alembic_env)."""

from libs.db.alembic_env import run
from services.processing.store.tables import metadata

run(metadata, "processing")
