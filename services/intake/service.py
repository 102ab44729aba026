"""Service layer of the desk: one unit of work per action (state change + history + outbox event)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.auth import Officer
from libs.calendar import WorkCalendar
from libs.catalogue import Catalogue
from libs.contracts import Envelope
from libs.contracts.common import Contact, DocumentSummary, ProcedureSnapshot
from libs.contracts.intake import (
    DossierRated,
    DossierReceived,
    DossierRefused,
    DossierWithdrawn,
    IntakeEvent,
    ResultHandedOver,
    SupplementSubmitted,
)
from libs.contracts.processing import CaseEvent
from libs.db import increment_counter
from libs.identity import format_dossier_code
from libs.messaging import enqueue
from libs.runtime import Runtime
from services.intake.domain import desk as rules
from services.intake.domain.desk import CaseUpdate, DeskDossier
from services.intake.domain.forms import HistoryEntry, book_period
from services.intake.domain.lookup import LAST4, PublicStatus, id_matches, public_status
from services.intake.domain.receipt import LOCAL, appointment, fingerprint, local_day
from services.intake.domain.states import DeskState
from services.intake.schemas import DocumentIn, DossierIn, PaperRequestIn
from services.intake.store import DAILY_SEQUENCES, DossierHistoryRow, DossierRow, PaperRequestRow

log = logging.getLogger(__name__)
RECEIVED = DeskState.RECEIVED.value
CITIZEN = "citizen"


class IdempotencyConflict(ValueError):
    """The Idempotency-Key was used before with a different request."""


class NotFound(LookupError):
    """No such dossier for this caller; the same answer whether it exists elsewhere or not at all."""


def may_see(officer: Officer | None, agency: str) -> bool:
    """Officers see their own agency's dossiers; an admin sees every agency's."""
    return officer is None or "admin" in officer.roles or officer.agency == agency


@dataclass
class Desk:
    rt: Runtime
    catalogue: Catalogue
    calendar: WorkCalendar
    received_total: Counter

    # --- receipt (Form 01) and refusal (Form 03): both get a code from the daily sequence ----------
    async def receive(
        self, body: DossierIn, agency: str, key: str | None, officer: Officer | None = None
    ) -> tuple[DossierRow, bool]:
        """Returns the dossier and whether it was created now (False: a replay of the same key)."""
        return await self._register(body, agency, key, officer, refusal=None)

    async def refuse(
        self, body: DossierIn, reason: str, agency: str, key: str | None, officer: Officer | None = None
    ) -> tuple[DossierRow, bool]:
        return await self._register(body, agency, key, officer, refusal=reason)

    async def _register(
        self, body: DossierIn, agency: str, key: str | None, officer: Officer | None, refusal: str | None
    ) -> tuple[DossierRow, bool]:
        payload = {**body.model_dump(mode="json"), "receiving_agency": agency}
        if refusal is not None:
            payload = {**payload, "decision": "refuse", "reason": refusal}
        request_hash = fingerprint(payload)
        if key and (done := await self._by_key(key)) is not None:
            return self._replayed(done, request_hash), False
        now = self.rt.clock.now()
        day = local_day(now)
        version = self.catalogue.procedure_version(body.procedure_code, day)
        due: datetime | None = None
        if refusal is None:  # checks this kind of agency may receive the procedure
            snapshot = ProcedureSnapshot.model_validate(self.catalogue.snapshot(body.procedure_code, day, agency))
            due = appointment(version, now, self.calendar)
        else:  # a refusal may be precisely because this desk cannot receive it
            self.catalogue.agency(agency)
            snapshot = ProcedureSnapshot.model_validate(version.snapshot(agency))
        try:
            row = await self._store(body, agency, key, request_hash, snapshot, now, due, officer, refusal)
        except IntegrityError:  # the same key raced us; its transaction won
            done = await self._by_key(key) if key else None
            if done is None:
                raise
            return self._replayed(done, request_hash), False
        if refusal is None:
            self.received_total.labels("intake", agency, body.procedure_code, body.channel.value).inc()
        self.rt.wake_relay()
        return row, True

    async def _store(self, body: DossierIn, agency: str, key: str | None, request_hash: str,
                     snapshot: ProcedureSnapshot, now: datetime, due: datetime | None,
                     officer: Officer | None, refusal: str | None) -> DossierRow:
        async with self.rt.sessions() as session, session.begin():
            day = local_day(now)
            # The upsert's row lock serialises receipts of one agency-day: numbers are gap-free.
            seq = await increment_counter(session, DAILY_SEQUENCES, {"agency": agency, "day": day}, "last")
            code = format_dossier_code(agency, day, seq)
            row = _row(body, agency, key, request_hash, snapshot, code, now, due, officer, refusal)
            session.add(row)
            await session.flush()
            event: IntakeEvent = (
                _received_event(row, body, snapshot, self._name(agency)) if refusal is None
                else _refused_event(row, body, snapshot, self._name(agency), refusal)
            )
            await self._emit(session, row, event, now)
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

    # --- Form 02 at the counter, before acceptance: no code, no workflow -------------------------
    async def request_papers(self, body: PaperRequestIn, agency: str, officer: Officer) -> PaperRequestRow:
        now = self.rt.clock.now()
        version = self.catalogue.procedure_version(body.procedure_code, local_day(now))
        self.catalogue.agency(agency)
        row = PaperRequestRow(
            id=uuid.uuid4(), agency=agency, officer=officer.sub, officer_name=officer.name,
            procedure_code=version.code, procedure_name=version.name, channel=body.channel.value,
            applicant_name=body.applicant.full_name, items=list(body.items), reason=body.reason, issued_at=now,
        )
        async with self.rt.sessions() as session, session.begin():
            session.add(row)
        return row

    async def paper_request(self, request_id: uuid.UUID, officer: Officer) -> PaperRequestRow:
        async with self.rt.sessions() as session:
            row = await session.get(PaperRequestRow, request_id)
        if row is None or not may_see(officer, row.agency):
            raise NotFound("no such supplement request")
        return row

    # --- moves at the counter --------------------------------------------------------------------
    async def withdraw(self, code: str, officer: Officer, reason: str) -> DossierRow:
        def move(row: DossierRow, d: DeskDossier, now: datetime) -> IntakeEvent:
            rules.withdraw(d, now)
            return DossierWithdrawn(**_base(row, officer.sub, now), reason=reason)

        return await self._act(code, officer, move)

    async def hand_in_supplement(self, code: str, officer: Officer, docs: list[DocumentIn], note: str) -> DossierRow:
        def move(row: DossierRow, d: DeskDossier, now: datetime) -> IntakeEvent:
            rules.hand_in_supplement(d, now)
            added = [{**doc.model_dump(), "supplement_at": now.isoformat()} for doc in docs]
            row.documents = [*row.documents, *added]
            return SupplementSubmitted(**_base(row, officer.sub, now), documents=_summary(docs), note=note)

        return await self._act(code, officer, move)

    async def hand_over(self, code: str, officer: Officer, method: str) -> DossierRow:
        def move(row: DossierRow, d: DeskDossier, now: datetime) -> IntakeEvent:
            rules.hand_over(d, method, now)
            return ResultHandedOver(**_base(row, officer.sub, now), method=method,
                                    electronic_result=d.electronic_result)

        return await self._act(code, officer, move)

    async def rate(self, code: str, officer: Officer, rating: int, comment: str) -> DossierRow:
        def move(row: DossierRow, d: DeskDossier, now: datetime) -> IntakeEvent:
            rules.rate(d, rating, now)
            row.rating_comment = comment or None
            return DossierRated(**_base(row, CITIZEN, now), rating=rating, comment=comment)

        return await self._act(code, officer, move)

    async def _act(
        self, code: str, officer: Officer, move: Callable[[DossierRow, DeskDossier, datetime], IntakeEvent]
    ) -> DossierRow:
        async with self.rt.sessions() as session, session.begin():
            query = select(DossierRow).where(DossierRow.code == code).with_for_update()
            row = (await session.exec(query)).first()
            if row is None or not may_see(officer, row.receiving_agency):
                raise NotFound(code)
            now = self.rt.clock.now()
            d = to_desk(row)
            event = move(row, d, now)  # raises IllegalMove: the transaction rolls back
            store_desk(row, d)
            session.add(row)
            await self._emit(session, row, event, now)
        self.rt.wake_relay()
        return row

    async def _emit(self, session: AsyncSession, row: DossierRow, event: IntakeEvent, now: datetime) -> None:
        assert self.rt.outbox is not None
        envelope = await enqueue(session, self.rt.outbox, event, now)
        session.add(_history(row, event, envelope, now))

    # --- reading ---------------------------------------------------------------------------------
    async def get(self, session: AsyncSession, code: str, officer: Officer | None = None) -> DossierRow | None:
        row = (await session.exec(select(DossierRow).where(DossierRow.code == code))).first()
        return row if row is not None and may_see(officer, row.receiving_agency) else None

    async def dossier(self, code: str, officer: Officer) -> tuple[DossierRow, list[DossierHistoryRow]]:
        async with self.rt.sessions() as session:
            row = await self.get(session, code, officer)
            if row is None:
                raise NotFound(code)
            query = select(DossierHistoryRow).where(DossierHistoryRow.dossier_id == row.id)
            history = (await session.exec(query.order_by(col(DossierHistoryRow.at), col(DossierHistoryRow.id)))).all()
        return row, list(history)

    async def lookup(self, code: str, last4: str) -> PublicStatus | None:
        """The citizen's view, or None whether the code is unknown or the digits do not match."""
        if not LAST4.match(last4):
            return None
        async with self.rt.sessions() as session:
            row = await self.get(session, code)
        if row is None or not id_matches(row.personal_id, last4):
            return None
        return public_status(to_desk(row), str(row.procedure.get("name", "")), row.received_at)

    async def tracking_book(self, agency: str, start: date, end: date) -> list[DossierRow]:
        """Dossiers the agency received (or refused) on local days start..end."""
        book_period(start, end)
        since = datetime.combine(start, time(0), LOCAL)
        until = datetime.combine(end + timedelta(days=1), time(0), LOCAL)
        query = (
            select(DossierRow)
            .where(DossierRow.receiving_agency == agency, col(DossierRow.received_at) >= since,
                   col(DossierRow.received_at) < until)
            .order_by(col(DossierRow.received_at), col(DossierRow.code))
        )
        async with self.rt.sessions() as session:
            return list((await session.exec(query)).all())


# --- following the workflow (processing's events) --------------------------------------------------
async def follow_case(session: AsyncSession, event: CaseEvent, envelope: Envelope) -> None:
    """Mirror a processing event at the desk and keep it in the dossier's history (one transaction)."""
    row = await session.get(DossierRow, event.dossier_id, with_for_update=True)
    if row is None:
        log.warning("processing event %s for a dossier intake does not know (%s)", envelope.type, event.code)
        return
    d = to_desk(row)
    rules.follow(d, case_update(event, envelope.type))
    store_desk(row, d)
    session.add(row)
    session.add(DossierHistoryRow(
        dossier_id=row.id, event_id=envelope.id, event_type=envelope.type, source=envelope.source, at=event.at,
        actor=event.actor, agency=event.agency, state=event.state, sub_state=event.sub_state,
        handover=event.handover, receiver=event.receiver, receiver_agency=event.receiver_agency,
        step_code=event.step_code, step_name=event.step_name, step_deadline=event.step_deadline,
        timeliness=event.timeliness, note=event.note, data=event.model_dump(mode="json"),
    ))


def kind_of(ce_type: str) -> str:
    """`vn.onestop.case.transferred.v1` → `case.transferred`."""
    return ce_type.removeprefix("vn.onestop.").rsplit(".v", 1)[0]


def case_update(event: CaseEvent, ce_type: str) -> CaseUpdate:
    electronic = getattr(event, "electronic", None)
    return CaseUpdate(
        kind=kind_of(ce_type), state_code=event.state, agency=event.agency, at=event.at, sub_state=event.sub_state,
        step_name=event.step_name, appointment_at=getattr(event, "appointment_at", None),
        electronic=electronic if isinstance(electronic, bool) else None,
    )


# --- mapping rows <-> the pure desk view --------------------------------------------------------------
_DESK_FIELDS = [f.name for f in fields(DeskDossier)]


def to_desk(row: DossierRow) -> DeskDossier:
    values: dict[str, Any] = {name: getattr(row, name) for name in _DESK_FIELDS}
    values["state"] = DeskState(row.state)
    return DeskDossier(**values)


def store_desk(row: DossierRow, d: DeskDossier) -> None:
    for name in _DESK_FIELDS:
        value = getattr(d, name)
        setattr(row, name, value.value if isinstance(value, DeskState) else value)


def history_entries(rows: list[DossierHistoryRow]) -> list[HistoryEntry]:
    return [
        HistoryEntry(
            kind=kind_of(h.event_type), at=h.at, actor=h.actor, agency=h.agency, state_code=h.state,
            handover=h.handover, receiver=h.receiver, receiver_agency=h.receiver_agency, step_code=h.step_code,
            step_name=h.step_name, step_deadline=h.step_deadline, timeliness=h.timeliness, note=h.note, data=h.data,
        )
        for h in rows
    ]


def _base(row: DossierRow, actor: str, now: datetime) -> dict[str, Any]:
    return {"dossier_id": row.id, "code": row.code, "agency": row.receiving_agency, "actor": actor, "at": now}


def _summary(docs: list[DocumentIn]) -> DocumentSummary:
    return DocumentSummary(total=len(docs), digitised=sum(d.digitised for d in docs),
                           e_certified_requested=sum(d.e_certified_copy for d in docs))


def _history(row: DossierRow, event: IntakeEvent, envelope: Envelope, now: datetime) -> DossierHistoryRow:
    return DossierHistoryRow(
        dossier_id=row.id, event_id=envelope.id, event_type=envelope.type, source=envelope.source, at=now,
        actor=event.actor, agency=event.agency, state=DeskState(row.state).code, sub_state=row.sub_state,
        note=str(getattr(event, "reason", "") or getattr(event, "note", "") or getattr(event, "method", "")),
        data=event.model_dump(mode="json", exclude={"applicant"}),
    )


def _row(body: DossierIn, agency: str, key: str | None, request_hash: str, snapshot: ProcedureSnapshot,
         code: str, now: datetime, due: datetime | None, officer: Officer | None, refusal: str | None) -> DossierRow:
    a = body.applicant
    refused = refusal is not None
    return DossierRow(
        id=uuid.uuid4(), code=code, receiving_agency=agency, procedure_code=snapshot.code,
        procedure_version=snapshot.version, channel=body.channel.value,
        state=(DeskState.REFUSED if refused else DeskState.RECEIVED).value,
        applicant_name=a.full_name, personal_id=a.personal_id, phone=a.phone, email=a.email,
        received_at=now, appointment_at=due, idempotency_key=key, request_hash=request_hash,
        procedure=snapshot.model_dump(mode="json"), documents=[d.model_dump() for d in body.documents],
        received_by=officer.sub if officer else None, received_by_name=officer.name if officer else None,
        refusal_reason=refusal, closed_at=now if refused else None, updated_at=now,
    )


def _received_event(
    row: DossierRow, body: DossierIn, snapshot: ProcedureSnapshot, agency_name: str
) -> DossierReceived:
    assert row.appointment_at is not None
    return DossierReceived(
        **_base(row, row.received_by or "", row.received_at),
        receiving_agency=row.receiving_agency, receiving_agency_name=agency_name, channel=body.channel,
        received_at=row.received_at, appointment_at=row.appointment_at, procedure=snapshot,
        applicant=_contact(row), documents=_summary(body.documents),
    )


def _refused_event(
    row: DossierRow, body: DossierIn, snapshot: ProcedureSnapshot, agency_name: str, reason: str
) -> DossierRefused:
    return DossierRefused(
        **_base(row, row.received_by or "", row.received_at),
        receiving_agency=row.receiving_agency, receiving_agency_name=agency_name, procedure_code=snapshot.code,
        procedure_name=snapshot.name, channel=body.channel, reason=reason, applicant=_contact(row),
    )


def _contact(row: DossierRow) -> Contact:
    return Contact(full_name=row.applicant_name, phone=row.phone, email=row.email)
