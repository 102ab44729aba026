"""Database plumbing shared by the services: engines, sessions, portable upserts, bulk statements, migrations."""

from libs.db import bulk
from libs.db.engine import is_sqlite, make_engine, make_session_factory
from libs.db.migrate import upgrade
from libs.db.sql import increment_counter, insert_ignore

__all__ = [
    "bulk", "increment_counter", "insert_ignore", "is_sqlite", "make_engine", "make_session_factory", "upgrade",
]
