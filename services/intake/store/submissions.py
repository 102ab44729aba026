"""The submissions table's queries: one submission (locked for a decision or an upload), by its Idempotency-Key,
and the desk's queue."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlmodel import col
from sqlmodel import select as orm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake.store.tables import SUBMISSIONS, SubmissionRow


async def one(session: AsyncSession, submission_id: uuid.UUID) -> SubmissionRow | None:
    return await session.get(SubmissionRow, submission_id)


async def lock(session: AsyncSession, submission_id: uuid.UUID) -> SubmissionRow | None:
    """The submission, locked until commit: its decision and its uploads commit one at a time."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE: a write takes its one write lock now (as store/documents.lock_dossier does).
        await session.execute(update(SUBMISSIONS).where(SUBMISSIONS.c.id == submission_id).values(id=submission_id))
    query = orm_select(SubmissionRow).where(SubmissionRow.id == submission_id).with_for_update()
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def by_key(session: AsyncSession, key: str) -> SubmissionRow | None:
    return (await session.exec(orm_select(SubmissionRow).where(SubmissionRow.idempotency_key == key))).first()


async def queue(session: AsyncSession, agency: str, state: str) -> list[SubmissionRow]:
    """The agency's submissions in `state`, oldest first (the desk checks them in the order they came)."""
    query = (orm_select(SubmissionRow)
             .where(SubmissionRow.receiving_agency == agency, SubmissionRow.state == state)
             .order_by(col(SubmissionRow.submitted_at), col(SubmissionRow.id)))
    return list((await session.exec(query)).all())
