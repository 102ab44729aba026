"""The outbox and inbox tables, defined once and placed in each service's own metadata."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, MetaData, String, Table, Text, text
from sqlalchemy.dialects import sqlite

from libs.db.types import UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY.
_ID = BigInteger().with_variant(Integer(), "sqlite")


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", _ID, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("event_type", String(120), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("headers", JSON, nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("published_at", UTCDateTime(), nullable=True),
        # Only the rows still to publish: the relay's claim walks this index in id order. An index over all
        # rows (published_at, id) let PostgreSQL walk the primary key and filter instead, once its statistics
        # said most rows were unpublished: a claim cost O(table) — 22 ms at 20,000 rows — and the relay fell
        # behind as the table grew (bench/README.md).
        Index("ix_outbox_pending", "id", postgresql_where=text("published_at IS NULL"),
              sqlite_where=text("published_at IS NULL")),
    )


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(120), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("applied_at", UTCDateTime(), nullable=False),
    )


async def claim_inbox(session: Any, inbox: Table, events: list[tuple[str, str, str]], now: datetime) -> set[str]:
    """Write the inbox rows of (event id, type, topic) not there yet, in one statement; returns the ids written.

    PostgreSQL gets one fixed statement over array parameters (prepared once); a multi-row VALUES would be
    compiled anew for every batch, which cost more than the rest of the consumer's work per event."""
    if not events:
        return set()
    ids, types, topics = (list(column) for column in zip(*events, strict=True))
    if session.get_bind().dialect.name == "postgresql":
        result = await session.execute(_pg_claim(inbox.name), {"ids": ids, "types": types, "topics": topics, "at": now})
    else:
        rows = [{"event_id": i, "event_type": t, "topic": p, "applied_at": now} for i, t, p in events]
        stmt = sqlite.insert(inbox).values(rows).on_conflict_do_nothing().returning(inbox.c.event_id)
        result = await session.execute(stmt)
    return set(result.scalars())


@lru_cache(maxsize=8)
def _pg_claim(table: str) -> Any:
    return text(
        f"INSERT INTO {table} (event_id, event_type, topic, applied_at) "
        "SELECT e.id, e.type, e.topic, CAST(:at AS timestamptz) "
        "FROM unnest(CAST(:ids AS text[]), CAST(:types AS text[]), CAST(:topics AS text[])) AS e(id, type, topic) "
        "ON CONFLICT DO NOTHING RETURNING event_id"
    )
