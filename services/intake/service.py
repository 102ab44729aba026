"""Service layer of the desk: one unit of work per receipt (dossier + code + outbox event)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.calendar import WorkCalendar
from libs.catalogue import Catalogue
from libs.contracts.common import Contact, DocumentSummary, ProcedureSnapshot
from libs.contracts.intake import DossierReceived
from libs.db import increment_counter
from libs.identity import format_dossier_code
from libs.messaging import enqueue
from libs.runtime import Runtime
from services.intake.domain.receipt import appointment, fingerprint, local_day
from services.intake.schemas import DossierIn
from services.intake.store import DAILY_SEQUENCES, DossierRow

RECEIVED = "received"


class IdempotencyConflict(ValueError):
    """The Idempotency-Key was used before with a different request."""


@dataclass
class Desk:
    rt: Runtime
    catalogue: Catalogue
    calendar: WorkCalendar
    received_total: Counter

    async def receive(self, body: DossierIn, agency: str, key: str | None) -> tuple[DossierRow, bool]:
        """Returns the dossier and whether it was created now (False: a replay of the same key)."""
        request_hash = fingerprint({**body.model_dump(mode="json"), "receiving_agency": agency})
        if key and (done := await self._by_key(key)) is not None:
            return self._replayed(done, request_hash), False
        now = self.rt.clock.now()
        day = local_day(now)
        version = self.catalogue.procedure_version(body.procedure_code, day)
        snapshot = ProcedureSnapshot.model_validate(self.catalogue.snapshot(body.procedure_code, day, agency))
        due = appointment(version, now, self.calendar)
        try:
            row = await self._store(body, agency, key, request_hash, snapshot, now, due)
        except IntegrityError:  # the same key raced us; its transaction won
            done = await self._by_key(key) if key else None
            if done is None:
                raise
            return self._replayed(done, request_hash), False
        self.received_total.labels("intake", agency, body.procedure_code, body.channel.value).inc()
        self.rt.wake_relay()
        return row, True

    async def _store(self, body: DossierIn, agency: str, key: str | None, request_hash: str,
                     snapshot: ProcedureSnapshot, now: datetime, due: datetime) -> DossierRow:
        assert self.rt.outbox is not None
        async with self.rt.sessions() as session, session.begin():
            day = local_day(now)
            # The upsert's row lock serialises receipts of one agency-day: numbers are gap-free.
            seq = await increment_counter(session, DAILY_SEQUENCES, {"agency": agency, "day": day}, "last")
            row = _row(body, agency, key, request_hash, snapshot, format_dossier_code(agency, day, seq), now, due)
            session.add(row)
            await session.flush()
            event = _received_event(row, body, snapshot, self._name(agency))
            await enqueue(session, self.rt.outbox, event, now)
        return row

    def _name(self, agency: str) -> str:
        return self.catalogue.agency(agency).name

    async def _by_key(self, key: str) -> DossierRow | None:
        async with self.rt.sessions() as session:
            result = await session.exec(select(DossierRow).where(DossierRow.idempotency_key == key))
            return result.first()

    @staticmethod
    def _replayed(row: DossierRow, request_hash: str) -> DossierRow:
        if row.request_hash != request_hash:
            raise IdempotencyConflict("this Idempotency-Key was already used for a different dossier")
        return row

    async def get(self, session: AsyncSession, code: str) -> DossierRow | None:
        return (await session.exec(select(DossierRow).where(DossierRow.code == code))).first()


def _row(body: DossierIn, agency: str, key: str | None, request_hash: str, snapshot: ProcedureSnapshot,
         code: str, now: datetime, due: datetime) -> DossierRow:
    a = body.applicant
    return DossierRow(
        id=uuid.uuid4(), code=code, receiving_agency=agency, procedure_code=snapshot.code,
        procedure_version=snapshot.version, channel=body.channel.value, state=RECEIVED,
        applicant_name=a.full_name, personal_id=a.personal_id, phone=a.phone, email=a.email,
        received_at=now, appointment_at=due, idempotency_key=key, request_hash=request_hash,
        procedure=snapshot.model_dump(mode="json"), documents=[d.model_dump() for d in body.documents],
    )


def _received_event(
    row: DossierRow, body: DossierIn, snapshot: ProcedureSnapshot, agency_name: str
) -> DossierReceived:
    docs = body.documents
    return DossierReceived(
        dossier_id=row.id, code=row.code, receiving_agency=row.receiving_agency,
        receiving_agency_name=agency_name, channel=body.channel, received_at=row.received_at,
        appointment_at=row.appointment_at, procedure=snapshot,
        applicant=Contact(full_name=row.applicant_name, phone=row.phone, email=row.email),
        documents=DocumentSummary(
            total=len(docs), digitised=sum(d.digitised for d in docs),
            e_certified_requested=sum(d.e_certified_copy for d in docs),
        ),
    )

