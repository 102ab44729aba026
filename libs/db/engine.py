"""Async engine and session factory for PostgreSQL (production, CI) or SQLite (embedded default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, pool_size: int = 20, pool_timeout: float = 30.0) -> AsyncEngine:
    if is_sqlite(url):
        _ensure_sqlite_dir(url)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # No pool_pre_ping: it costs three round trips (BEGIN, SELECT 1, ROLLBACK) per checkout, i.e. per
    # request and per consumer batch. A connection PostgreSQL dropped fails once with a disconnect error,
    # which makes SQLAlchemy discard the whole pool; consumers retry that as transient, HTTP callers get a 503.
    # No overflow: an overflow connection is closed on return, so a burst of requests would open and close
    # connections (a backend fork each) all through the burst; with a fixed pool the excess waits its turn.
    # A bounded wait for a connection: past it the request gets a 503 (libs/runtime/http.py), not a long hang.
    return create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_recycle=1800, pool_timeout=pool_timeout)


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the HTTP API read while a consumer writes; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
