"""The `notices` rows: recorded a batch at a time (unless recorded before: the key), claimed by the delivery
loop, and read for the officers' notice log."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, and_, bindparam, func, or_, select
from sqlmodel import col
from sqlmodel import select as model_select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.db.bulk import insert_rows, member_of
from services.notifications.domain import NoticeStatus
from services.notifications.domain.records import NOTICE_FIELDS, Notice
from services.notifications.store.contacts import as_uuid
from services.notifications.store.tables import CONTACTS, NOTICES, OPEN, ContactRow, NoticeRow

log = logging.getLogger(__name__)


def notice_of(row: Any) -> Notice:
    values = dict(row)
    values["id"], values["dossier_id"] = as_uuid(values["id"]), as_uuid(values["dossier_id"])
    return Notice(**values)


def insert_notices(conn: Connection, rows: list[Notice]) -> set[str]:
    """Record notices unless recorded before (same key); returns the keys written."""
    values = [{n: getattr(r, n) for n in NOTICE_FIELDS} for r in rows]
    return set(insert_rows(conn, NOTICES, values, skip_existing=True, returning="key"))


def load_open_notices(conn: Connection, ids: list[UUID], kinds: list[str]) -> list[Notice]:
    """Notices of these dossiers and kinds that may still be sent (or expired)."""
    if not ids or not kinds:
        return []
    stmt = select(NOTICES).where(member_of(conn, NOTICES.c.dossier_id), NOTICES.c.status.in_(OPEN),
                                 NOTICES.c.kind.in_(bindparam("kinds", expanding=True)))
    return [notice_of(row) for row in conn.execute(stmt, {"ids": ids, "kinds": kinds}).mappings()]


_DUE = or_(
    NOTICES.c.status == NoticeStatus.CREATED.value,
    and_(NOTICES.c.status == NoticeStatus.TEMPORARY_FAILURE.value, NOTICES.c.next_attempt_at <= bindparam("now")),
)
# The dossier's state as a correlated subquery, looked up by primary key for the (at most `limit`) rows
# returned: as a join, PostgreSQL hashed the whole contacts table for every claim (~6 ms at 20,000 dossiers).
_STATE_OF_NOTICE = (select(CONTACTS.c.dossier_state).where(CONTACTS.c.dossier_id == NOTICES.c.dossier_id)
                    .scalar_subquery().label("dossier_state"))
# Row locks (FOR UPDATE … SKIP LOCKED: replicas take different notices) are PostgreSQL's; SQLite's compiler
# leaves the clause out (it has no row locks, its writers are serialised).
_DUE_QUERY = (
    select(NOTICES, _STATE_OF_NOTICE)
    .where(_DUE)
    .order_by(NOTICES.c.created_at)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True, of=NOTICES)
)


def load_due(conn: Connection, now: datetime, limit: int) -> list[tuple[Notice, str]]:
    """Notices due for an attempt, oldest first, with their dossier's state; locked (SKIP LOCKED) on
    PostgreSQL."""
    out = []
    for row in conn.execute(_DUE_QUERY, {"now": now, "limit": limit}).mappings():
        values = dict(row)
        state = values.pop("dossier_state")
        if state is None:  # cannot happen (a notice is made from its contact); never send without one
            log.error("notice %s has no contact row; left unsent", values["id"])
            continue
        out.append((notice_of(values), state))
    return out


_INTERRUPTED_QUERY = (
    select(NOTICES)
    .where(NOTICES.c.status == NoticeStatus.SENDING.value, NOTICES.c.updated_at < bindparam("cutoff"))
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)


def load_interrupted(conn: Connection, cutoff: datetime, limit: int) -> list[Notice]:
    """Notices left in `sending` since before the cutoff (their attempt was interrupted)."""
    return [notice_of(row) for row in conn.execute(_INTERRUPTED_QUERY, {"cutoff": cutoff, "limit": limit}).mappings()]


_NOTICE_BY_ID = select(NOTICES).where(NOTICES.c.id == bindparam("id")).with_for_update()


def load_notice(conn: Connection, notice_id: UUID) -> Notice | None:
    row = conn.execute(_NOTICE_BY_ID, {"id": notice_id}).mappings().first()
    return None if row is None else notice_of(row)


_RETRY_QUEUE = (
    select(NOTICES.c.channel, func.count())
    .where(NOTICES.c.status == NoticeStatus.TEMPORARY_FAILURE.value)
    .group_by(NOTICES.c.channel)
)


async def retry_queue(session: AsyncSession) -> dict[str, int]:
    """Notices waiting for a retry, by channel."""
    return {channel: n for channel, n in (await session.execute(_RETRY_QUEUE)).all()}


# -- the officers' notice log -----------------------------------------------------------------------------

async def notices_of_dossier(session: AsyncSession, code: str, agency: str) -> list[NoticeRow] | None:
    """The notices of the dossier `code` received by `agency`, oldest first; None when it has no such dossier."""
    query = model_select(ContactRow.dossier_id).where(ContactRow.code == code, ContactRow.receiving_agency == agency)
    ids = list((await session.exec(query)).all())
    if not ids:
        return None
    notices = model_select(NoticeRow).where(col(NoticeRow.dossier_id).in_(ids))
    return list((await session.exec(notices.order_by(col(NoticeRow.created_at), col(NoticeRow.channel)))).all())


async def notice_at_agency(session: AsyncSession, notice_id: UUID, agency: str) -> NoticeRow | None:
    """The notice, if its dossier was received by `agency`."""
    notice = await session.get(NoticeRow, notice_id)
    contact = await session.get(ContactRow, notice.dossier_id) if notice else None
    return notice if contact is not None and contact.receiving_agency == agency else None


async def notice_row(session: AsyncSession, notice_id: UUID) -> NoticeRow | None:
    return await session.get(NoticeRow, notice_id)
