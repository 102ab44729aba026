"""What a change of cases stages besides the cases: each domain event as a row of its case's event log and
as its contract event in the outbox — one INSERT of each for the whole change (officer action, consumer
batch, sweep page), committed with the cases or not at all.

The domain event and the contract event are two definitions, kept field for field alike (ADR 0011): the
contract of a domain event is the registered class of `contract_type(event.type)`, built from `to_dict()`."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from opentelemetry.context import Context
from sqlalchemy import Table
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts import REGISTRY, Event
from libs.contracts.processing import contract_type
from libs.messaging import outbox_row
from services.processing import store
from services.processing.domain import CaseEvent


def contract_of(event: CaseEvent, data: dict[str, Any] | None = None) -> Event:
    """The contract event published for `event` (`data`: its `to_dict()`, when already made)."""
    return REGISTRY[contract_type(event.type)].model_validate(data if data is not None else event.to_dict())


class Staged:
    """Event log and outbox rows of many events. An outbox row carries the trace context current when its
    event is added: add a consumed event's effects inside its `Delivered.traced()`."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.log: list[dict[str, Any]] = []
        self.outbox: list[dict[str, Any]] = []

    def add(self, dossier_id: UUID, seq: int, event: CaseEvent, trace: Context | None = None) -> None:
        """`event`, the `seq`-th of its case; its outbox row carries `trace` (default: the current context)."""
        data = event.to_dict()
        row = outbox_row(contract_of(event, data), self.now, trace)
        self.outbox.append(row)
        self.log.append(store.event_row(dossier_id, seq, str(row["event_id"]), event, data))

    def add_all(
        self, dossier_id: UUID, last_seq: int, events: list[CaseEvent], trace: Context | None = None
    ) -> int:
        """The events that follow the case's `last_seq`-th; returns the new last seq."""
        for event in events:
            last_seq += 1
            self.add(dossier_id, last_seq, event, trace)
        return last_seq

    def extend(self, other: Staged) -> None:
        self.log += other.log
        self.outbox += other.outbox

    async def write(self, session: AsyncSession, outbox: Table) -> None:
        """One INSERT of the event log rows, one of the outbox rows."""
        await store.insert_events(session, self.log)
        await store.insert_outbox(session, outbox, self.outbox)
