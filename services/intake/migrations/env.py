"""Alembic environment of the intake service (shared body in libs.db.alembic_env)."""

import services.intake.certification.store  # noqa: F401  (its tables join intake's metadata)
from libs.db.alembic_env import run
from services.intake.store.tables import metadata

run(metadata, "intake")
