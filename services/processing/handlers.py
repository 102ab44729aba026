"""Kafka handlers of processing: parse (done by the consumer), decide, persist, emit."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts import Envelope, topics
from libs.contracts.intake import DossierReceived
from libs.messaging import enqueue
from libs.runtime import Runtime
from services.processing.service import open_case
from services.processing.store import CaseRow


def register(rt: Runtime) -> None:
    assert rt.consumer is not None and rt.outbox is not None
    outbox = rt.outbox

    @rt.consumer.on(DossierReceived)
    async def on_received(session: AsyncSession, event: DossierReceived, _env: Envelope) -> None:
        if await session.get(CaseRow, event.dossier_id) is not None:
            return  # already opened from an earlier copy of this dossier's receipt
        now = rt.clock.now()
        row, opened = open_case(event, now)
        session.add(row)
        await enqueue(session, outbox, opened, now)

    rt.consumer.subscribe([topics.INTAKE], group_id="onestop-processing")


