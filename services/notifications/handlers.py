"""Kafka handlers of notifications: record the notices a dossier event calls for."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts import Envelope, topics
from libs.contracts.intake import DossierReceived
from libs.runtime import Runtime
from services.notifications.service import contact_from, notices_for
from services.notifications.store import ContactRow


def register(rt: Runtime) -> None:
    assert rt.consumer is not None

    @rt.consumer.on(DossierReceived)
    async def on_received(session: AsyncSession, event: DossierReceived, env: Envelope) -> None:
        now = rt.clock.now()
        contact = await session.get(ContactRow, event.dossier_id) or contact_from(event, now)
        session.add(contact)
        for notice in notices_for(contact, "received", env.id, now):
            session.add(notice)

    rt.consumer.subscribe([topics.INTAKE, topics.PROCESSING], group_id="onestop-notifications")
