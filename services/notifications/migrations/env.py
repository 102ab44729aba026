"""Alembic environment of the notifications service (shared body in libs.db.alembic_env)."""

from libs.db.alembic_env import run
from services.notifications.store.tables import metadata

run(metadata, "notifications")
