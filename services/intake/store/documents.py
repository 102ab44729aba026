"""The documents table's queries: a dossier's scans, its bytes held, who acknowledged its hand-overs, the keys
the orphan sweep asks about, the scans an event has not announced yet, and the drafts taken before a receipt (their
lock, and the stale ones the sweep drops)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, exists, func, select, text, update
from sqlmodel import col
from sqlmodel import select as orm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.common import Digitisation, DocumentKind, DocumentManifest
from libs.contracts.processing import HandoffAcknowledged
from services.intake.store.tables import DOCUMENTS, DOSSIERS, HISTORY, SUBMISSIONS, DocumentRow, DossierRow

ACKNOWLEDGED = HandoffAcknowledged.ce_type


async def lock_dossier(session: AsyncSession, dossier_id: uuid.UUID) -> DossierRow | None:
    """The dossier, locked until commit: uploads to one dossier commit one at a time (its byte total)."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks and ignores FOR UPDATE: a write first takes its one write lock now, so the
        # reads that follow see every upload committed before (a write after a stale read would fail instead).
        await session.execute(update(DOSSIERS).where(DOSSIERS.c.id == dossier_id).values(id=dossier_id))
    query = orm_select(DossierRow).where(DossierRow.id == dossier_id).with_for_update()
    return (await session.exec(query)).first()


async def lock_draft(session: AsyncSession, draft_id: uuid.UUID) -> None:
    """A draft's uploads and its receipt commit one at a time, so the receipt announces exactly the scans committed
    before it and an upload after it sees its dossier. There is no row to lock yet: an advisory lock on PostgreSQL
    (keyed by the id's first 8 bytes), SQLite's one write lock elsewhere (as `lock_dossier` takes it)."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(update(DOSSIERS).where(DOSSIERS.c.id == draft_id).values(id=draft_id))
        return
    key = int.from_bytes(draft_id.bytes[:8], "big", signed=True)
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def drop_stale_drafts(session: AsyncSession, cutoff: datetime) -> int:
    """Delete the scans of drafts last uploaded to before `cutoff` that no receipt took (no dossier has their id) and
    that are not an online submission's; returns how many. Their objects become orphans for the store's sweep.
    `announced_at IS NULL` also keeps a row a receipt is announcing in this instant (PostgreSQL re-checks it on
    the row the receipt wrote)."""
    fresh = select(DOCUMENTS.c.dossier_id).where(DOCUMENTS.c.uploaded_at >= cutoff)
    query = DOCUMENTS.delete().where(
        DOCUMENTS.c.announced_at.is_(None), DOCUMENTS.c.uploaded_at < cutoff, DOCUMENTS.c.dossier_id.not_in(fresh),
        ~exists().where(DOSSIERS.c.id == DOCUMENTS.c.dossier_id),
        ~exists().where(SUBMISSIONS.c.id == DOCUMENTS.c.dossier_id))
    return int(cast(CursorResult[Any], await session.execute(query)).rowcount)


async def of_dossier(session: AsyncSession, dossier_id: uuid.UUID) -> list[DocumentRow]:
    query = (orm_select(DocumentRow).where(DocumentRow.dossier_id == dossier_id)
             .order_by(col(DocumentRow.checklist_item), col(DocumentRow.uploaded_at), col(DocumentRow.id)))
    return list((await session.exec(query)).all())


async def one(session: AsyncSession, document_id: uuid.UUID) -> DocumentRow | None:
    return await session.get(DocumentRow, document_id)


async def by_key(session: AsyncSession, dossier_id: uuid.UUID, key: str) -> DocumentRow | None:
    query = orm_select(DocumentRow).where(DocumentRow.dossier_id == dossier_id, DocumentRow.idempotency_key == key)
    return (await session.exec(query)).first()


async def held_bytes(session: AsyncSession, dossier_id: uuid.UUID) -> int:
    query = select(func.coalesce(func.sum(DOCUMENTS.c.size), 0)).where(DOCUMENTS.c.dossier_id == dossier_id)
    return int((await session.execute(query)).scalar_one())


async def acknowledged_by(session: AsyncSession, dossier_id: uuid.UUID) -> frozenset[str]:
    """The agencies that acknowledged a hand-over of the case (intake keeps processing's events in history)."""
    query = (select(HISTORY.c.agency).distinct()
             .where(HISTORY.c.dossier_id == dossier_id, HISTORY.c.event_type == ACKNOWLEDGED))
    return frozenset((await session.execute(query)).scalars().all())


async def referenced(session: AsyncSession, keys: Collection[str]) -> set[str]:
    """Which of `keys` a row references (the orphan sweep's question, one query per batch)."""
    if not keys:
        return set()
    query = select(DOCUMENTS.c.key).distinct().where(DOCUMENTS.c.key.in_(list(keys)))
    return set((await session.execute(query)).scalars().all())


async def announce(session: AsyncSession, dossier_id: uuid.UUID, now: datetime) -> list[DocumentRow]:
    """The scans no event has carried yet, marked as carried by the one being staged (same transaction). Locked
    as read: a stale draft's row the sweep is deleting at this instant is then skipped, not announced."""
    query = (orm_select(DocumentRow)
             .where(DocumentRow.dossier_id == dossier_id, col(DocumentRow.announced_at).is_(None))
             .order_by(col(DocumentRow.checklist_item), col(DocumentRow.uploaded_at), col(DocumentRow.id))
             .with_for_update())
    rows = list((await session.exec(query)).all())
    if rows:
        await session.execute(update(DOCUMENTS).where(DOCUMENTS.c.id.in_([r.id for r in rows]))
                              .values(announced_at=now))
    return rows


async def remove(session: AsyncSession, document_id: uuid.UUID) -> None:
    await session.execute(DOCUMENTS.delete().where(DOCUMENTS.c.id == document_id))


def manifest_of(rows: list[DocumentRow]) -> list[DocumentManifest]:
    """What events say of the scans: references and hashes, never the bytes, never the file name."""
    return [
        DocumentManifest(
            document_id=r.id, kind=DocumentKind(r.kind), checklist_item=r.checklist_item, item_name=r.item_name,
            sha256=r.sha256, size=r.size,
            media_type=r.media_type, pages=r.pages, digitisation=Digitisation(r.digitisation),
            reused_from=r.reused_from, uploaded_at=r.uploaded_at,
        )
        for r in rows
    ]
