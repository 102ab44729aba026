"""What officers see and do (use case of the HTTP routes): the notice log of a dossier of their agency, and an
operator's retry of a notice."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import async_sessionmaker

from services.notifications.delivery import Delivery
from services.notifications.store import NoticeRow, notice_at_agency, notices_of_dossier


class NotAtAgency(LookupError):
    """The agency received no dossier with that notice (or there is no such notice)."""


class NoticeLog:
    def __init__(self, sessions: async_sessionmaker[Any], delivery: Delivery) -> None:
        self.sessions, self.delivery = sessions, delivery

    async def of_dossier(self, code: str, agency: str) -> list[NoticeRow] | None:
        """The dossier's notices, oldest first; None when `agency` received no dossier `code`."""
        async with self.sessions() as session:
            return await notices_of_dossier(session, code, agency)

    async def retry(self, notice_id: UUID, agency: str) -> NoticeRow | None:
        """Send the notice again now, with a fresh retry window; None when it is gone meanwhile. NotAtAgency
        when `agency` has no such notice, IllegalTransitionError when its status allows no retry,
        RuntimeError when it changed meanwhile."""
        async with self.sessions() as session:
            if await notice_at_agency(session, notice_id, agency) is None:
                raise NotAtAgency(notice_id)
        return await self.delivery.retry(notice_id)
