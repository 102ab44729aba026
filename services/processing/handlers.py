"""Kafka handlers of processing: the desk's events (parsed by the consumer) → domain command → persist + emit.

A DomainError escapes on purpose: the consumer parks that event on onestop.dlq.processing with the reason."""

from __future__ import annotations

from libs.contracts import Envelope, topics
from libs.contracts.intake import DossierReceived, DossierWithdrawn, ResultHandedOver, SupplementSubmitted
from libs.runtime import Runtime
from services.processing.domain.events import CITIZEN, SYSTEM
from services.processing.service import Workflow
from services.processing.store import AsyncSession


def register(rt: Runtime, workflow: Workflow) -> None:
    assert rt.consumer is not None

    @rt.consumer.on(DossierReceived)
    async def on_received(session: AsyncSession, event: DossierReceived, _env: Envelope) -> None:
        await workflow.open_case(session, event)

    @rt.consumer.on(SupplementSubmitted)
    async def on_supplement(session: AsyncSession, event: SupplementSubmitted, _env: Envelope) -> None:
        await workflow.apply(
            session, event.dossier_id,
            lambda case, now: case.supplement_received(event.at or now, event.actor or CITIZEN),
        )

    @rt.consumer.on(DossierWithdrawn)
    async def on_withdrawn(session: AsyncSession, event: DossierWithdrawn, _env: Envelope) -> None:
        await workflow.apply(
            session, event.dossier_id,
            lambda case, now: case.withdraw(event.at or now, event.reason, event.actor or CITIZEN),
        )

    @rt.consumer.on(ResultHandedOver)
    async def on_handed_over(session: AsyncSession, event: ResultHandedOver, _env: Envelope) -> None:
        await workflow.apply(
            session, event.dossier_id,
            lambda case, now: case.result_handed_over(event.at or now, event.method, event.actor or SYSTEM),
        )

    rt.consumer.subscribe([topics.INTAKE], group_id=rt.settings.group(rt.name))
