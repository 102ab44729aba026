"""Kafka batch handler of processing: the desk's events (parsed by the consumer) → cases opened or changed.

The batch's writes, in order, all in the consumer's transaction:
1. the new cases of the batch's receipts: one INSERT of the cases (skipping the dossiers that have one),
   one of their event log rows, one of their outbox rows (each receipt's rows staged in its own trace);
2. then the batch's other events, one after the other: lock the case, run the domain command, save it
   version-checked, append its events and outbox rows.
A dossier's receipt always comes before its other events on its partition, so opening first keeps the order.
A DomainError escapes on purpose: the consumer re-applies the batch an event at a time and parks the refused
one on onestop.dlq.processing with the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts import Event
from libs.contracts.intake import (
    DossierReceived,
    DossierWithdrawn,
    ResultAttached,
    ResultHandedOver,
    SupplementSubmitted,
)
from libs.messaging import AfterCommit, BatchHandler, Delivered
from services.processing.cases import Cases, Command, Opening
from services.processing.domain import CaseEvent
from services.processing.domain.events import CITIZEN, SYSTEM


def _supplement(event: SupplementSubmitted) -> Command:
    return lambda case, now: case.supplement_received(event.at or now, event.actor or CITIZEN)


def _withdrawn(event: DossierWithdrawn) -> Command:
    return lambda case, now: case.withdraw(event.at or now, event.reason, event.actor or CITIZEN)


def _handed_over(event: ResultHandedOver) -> Command:
    return lambda case, now: case.result_handed_over(event.at or now, event.method, event.actor or SYSTEM)


def _result_attached(event: ResultAttached) -> Command:
    document = event.manifest[0].model_dump(mode="json")  # as `case.result_ready` will publish it again
    return lambda case, now: case.attach_result(document, event.agency, event.actor or SYSTEM, event.at or now)


# The desk's events that change an open case: the domain command each one runs.
COMMANDS: dict[type[Event], Callable[[Any], Command]] = {
    SupplementSubmitted: _supplement, DossierWithdrawn: _withdrawn, ResultHandedOver: _handed_over,
    ResultAttached: _result_attached,
}
EVENTS: tuple[type[Event], ...] = (DossierReceived, *COMMANDS)  # what the consumer hands to `desk_events`


def desk_events(cases: Cases) -> BatchHandler:
    """The batch handler of onestop.intake.v1."""

    async def handle(session: AsyncSession, batch: list[Delivered[Any]]) -> AfterCommit | None:
        openings: list[Opening] = []
        for item in batch:
            if isinstance(item.event, DossierReceived):
                with item.traced():
                    openings.append(cases.opening(item.event))
        events: list[CaseEvent] = await cases.open(session, openings)
        for item in batch:
            command = COMMANDS.get(type(item.event))
            if command is not None:
                with item.traced():
                    events += await cases.apply(session, item.event.dossier_id, command(item.event))
        return (lambda: cases.metrics.count(events)) if events else None

    return handle
