"""Kafka handlers of reporting: fold every dossier event into the read model."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.contracts import Envelope, topics
from libs.contracts.intake import DossierReceived
from libs.db import increment_counter
from libs.runtime import Runtime
from services.reporting.service import LOCAL, fact_from
from services.reporting.store import RECEIVED_DAILY, FactRecord


def register(rt: Runtime) -> None:
    assert rt.consumer is not None

    @rt.consumer.on(DossierReceived)
    async def on_received(session: AsyncSession, event: DossierReceived, _env: Envelope) -> None:
        if await session.get(FactRecord, event.dossier_id) is not None:
            return
        session.add(fact_from(event))
        day = event.received_at.astimezone(LOCAL).date()
        keys = {"agency": event.receiving_agency, "day": day, "channel": event.channel.value}
        await increment_counter(session, RECEIVED_DAILY, keys, "count")

    rt.consumer.subscribe(list(topics.ALL), group_id="onestop-reporting")
