"""The outbox rows of a unit of work (`libs.messaging.outbox_row`), staged with one INSERT."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.db import bulk


async def insert_outbox(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Stage many outbox rows (as `libs.messaging.enqueue` writes them) in one statement."""
    await bulk.ainsert_rows(session, table, rows)
