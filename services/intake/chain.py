"""Checking a dossier's tamper-evident record (issue 17 §4): read its history entries as stored, recompute the
hash chain (domain/chain.py) and name the first entry that was changed. The admin route (api_chain.py) and the
operator's `onestop verify CODE` (onestop/cli.py, on intake's database) both call `verify_dossier`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.auth import Officer
from services.intake.desk import NotFound, may_see
from services.intake.domain.chain import Verdict, verify
from services.intake.store import chain, dossiers


async def verify_dossier(sessions: async_sessionmaker[AsyncSession], code: str,
                         officer: Officer | None = None) -> Verdict:
    """The verdict on one dossier's chain; NotFound when no such dossier is within the officer's reach
    (`None`: the operator, who reaches every dossier)."""
    async with sessions() as session:
        row = await dossiers.by_code(session, code)
        if row is None or not may_see(officer, row.receiving_agency):
            raise NotFound(code)
        return verify(await chain.entries_of(session, row.id))

