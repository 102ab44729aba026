"""Database plumbing shared by the services: engines, sessions, portable upserts, migrations."""

from libs.db.engine import is_sqlite, make_engine, make_session_factory
from libs.db.migrate import upgrade
from libs.db.sql import increment_counter, insert_ignore

__all__ = [
    "increment_counter", "insert_ignore", "is_sqlite", "make_engine", "make_session_factory", "upgrade",
]
