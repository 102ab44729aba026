"""The desk's use cases: one unit of work per action (state change + history + outbox event).

Receipt (Form 01) and refusal (Form 03) take a code from the daily sequence; supplements, withdrawal, hand-over
and rating move a dossier at the counter; Form 02 before acceptance; reading a dossier, the citizen's look-up,
the tracking book. Following processing's events is `following.py`; the SQL is in `store/`.

Over 300 lines: the builders of the desk's own events and rows (the end of the file) stay beside the one
use case that calls them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.auth import Officer
from libs.calendar import WorkCalendar
from libs.catalogue import Catalogue, ProcedureVersion
from libs.clock import Clock
from libs.contracts import Envelope
from libs.contracts.common import Channel, Contact, DocumentManifest, DocumentSummary, ProcedureSnapshot
from libs.contracts.intake import (
    DossierRated,
    DossierReceived,
    DossierRefused,
    DossierWithdrawn,
    IntakeEvent,
    ResultHandedOver,
    SupplementSubmitted,
)
from libs.identity import format_dossier_code
from libs.messaging import Outbox, enqueue, envelope_row
from libs.observability import Children
from services.intake.domain import desk as rules
from services.intake.domain.desk import DeskDossier, InvalidInput
from services.intake.domain.documents import check_drafts, draft_id
from services.intake.domain.forms import book_period
from services.intake.domain.lookup import LAST4, PublicStatus, id_matches, public_status
from services.intake.domain.receipt import LOCAL, appointment, fingerprint, local_day
from services.intake.domain.states import DeskState
from services.intake.schemas import DocumentIn, DossierIn, PaperRequestIn
from services.intake.store import documents as scan_rows
from services.intake.store import dossiers
from services.intake.store.documents import manifest_of
from services.intake.store.receipts import Receipt, write_receipt, write_receipt_in
from services.intake.store.rows import new_row, store_desk, to_desk
from services.intake.store.tables import DossierHistoryRow, DossierRow, PaperRequestRow

ONLINE_AT_DESK = ("an online dossier is filed through /api/v1/public/submissions and accepted from the desk's "
                  "queue")


class IdempotencyConflict(ValueError):
    """The Idempotency-Key was used before with a different request."""


class NotFound(LookupError):
    """No such dossier for this caller; the same answer whether it exists elsewhere or not at all."""


def may_see(officer: Officer | None, agency: str) -> bool:
    """Officers, admins included, see their own agency's dossiers; only the province-wide role
    (`province_admin`, libs/auth) sees every agency's. `None` is the system itself (events, the look-up)."""
    return officer is None or officer.agency == agency or officer.province_wide


@dataclass(frozen=True)
class _Snapshot:
    """A procedure version as received at one desk: the model, its JSON dict and its JSON text."""

    model: ProcedureSnapshot
    dumped: dict[str, Any]
    json: str


@dataclass(frozen=True)
class OnlineFiling:
    """What an online submission brings to its dossier (docs/domain.md §5.2): its id (the dossier's), when it was
    filed, the files uploaded to it and the payment choice."""

    id: uuid.UUID
    submitted_at: datetime
    manifest: list[DocumentManifest]
    online_payment: bool | None


@dataclass
class Desk:
    engine: AsyncEngine  # the receipt's own connection (one autocommit statement on PostgreSQL)
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    outbox: Outbox
    catalogue: Catalogue
    calendar: WorkCalendar
    received_total: Counter  # onestop_dossiers_received (metrics.py)
    # Snapshots by (procedure, version, desk, refusal): the catalogue does not change while the desk runs.
    _snapshots: dict[tuple[str, int, str, bool], _Snapshot] = field(default_factory=dict, init=False, repr=False)
    _received: Children = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._received = Children(self.received_total)

    # --- receipt (Form 01) and refusal (Form 03): both get a code from the daily sequence ----------
    async def receive(
        self, body: DossierIn, agency: str, key: str | None, officer: Officer | None = None
    ) -> tuple[DossierRow, bool]:
        """Returns the dossier and whether it was created now (False: a replay of the same key)."""
        _not_online(body)
        return await self._register(body, agency, key, officer, refusal=None)

    async def refuse(
        self, body: DossierIn, reason: str, agency: str, key: str | None, officer: Officer | None = None
    ) -> tuple[DossierRow, bool]:
        _not_online(body)
        return await self._register(body, agency, key, officer, refusal=reason)

    async def register_online(self, conn: AsyncConnection, body: DossierIn, agency: str, officer: Officer,
                              filing: OnlineFiling, refusal: str | None, now: datetime) -> DossierRow:
        """The desk's decision on an online submission: the same receipt (or refusal) as at the counter, in the
        caller's transaction (which holds the submission's lock), the dossier taking the submission's id and
        received `now` — the acceptance is the receipt time (§5.2). The caller wakes the outbox after commit."""
        payload = {**body.model_dump(mode="json"), "receiving_agency": agency, "submission": str(filing.id)}
        receipt = self._receipt(body, agency, None, fingerprint(payload), now, officer, refusal, filing)
        receipt.row.code = await write_receipt_in(conn, self.outbox.table, receipt)
        if refusal is None:
            self._received("intake", agency, body.procedure_code, body.channel.value).inc()
        return receipt.row

    async def _register(
        self, body: DossierIn, agency: str, key: str | None, officer: Officer | None, refusal: str | None
    ) -> tuple[DossierRow, bool]:
        payload = {**body.model_dump(mode="json"), "receiving_agency": agency}
        if refusal is not None:
            payload = {**payload, "decision": "refuse", "reason": refusal}
        request_hash = fingerprint(payload)
        now = self.clock.now()
        # A keyed dossier takes its draft's id (§4.4): the scans taken at the counter before it already name it.
        dossier_id = draft_id(agency, key) if key else uuid.uuid4()
        try:
            if key and refusal is None:
                return await self._receive_drafts(body, agency, key, request_hash, now, officer, dossier_id)
            receipt = self._receipt(body, agency, key, request_hash, now, officer, refusal, dossier_id=dossier_id)
        except Exception:  # a replay answers as it did the first time, whatever the catalogue says today
            if key and (done := await self._by_key(key)) is not None:
                return self._replayed(done, request_hash), False
            raise
        try:
            receipt.row.code = await write_receipt(self.engine, self.outbox.table, receipt)
        except IntegrityError:  # the key was used before (or the same key raced us and won): no number taken
            done = await self._by_key(key) if key else None
            if done is None:
                raise
            return self._replayed(done, request_hash), False
        if refusal is None:
            self._received("intake", agency, body.procedure_code, body.channel.value).inc()
        self.outbox.wake()
        return receipt.row, True

    async def _receive_drafts(self, body: DossierIn, agency: str, key: str, request_hash: str, now: datetime,
                              officer: Officer | None, dossier_id: uuid.UUID) -> tuple[DossierRow, bool]:
        """A keyed receipt in one transaction under its draft's lock: the scans taken for it are marked announced
        and travel in `dossier.received`'s manifest (§4.4). The number's row lock lasts until this commit."""
        async with self.sessions() as session, session.begin():
            await scan_rows.lock_draft(session, dossier_id)
            if (done := await dossiers.by_key(session, key)) is not None:  # a replay, whatever the catalogue says
                return self._replayed(done, request_hash), False
            scans = manifest_of(await scan_rows.announce(session, dossier_id, now))
            receipt = self._receipt(body, agency, key, request_hash, now, officer, None, dossier_id=dossier_id,
                                    scans=scans)
            receipt.row.code = await write_receipt_in(await session.connection(), self.outbox.table, receipt)
        self._received("intake", agency, body.procedure_code, body.channel.value).inc()
        self.outbox.wake()
        return receipt.row, True

    def _terms(self, code: str, agency: str, day: date, refusal: bool) -> tuple[ProcedureVersion, _Snapshot]:
        """The version in force and its snapshot for this desk (checked once per version and desk, then cached)."""
        version = self.catalogue.procedure_version(code, day)
        cache_key = (version.code, version.version, agency, refusal)
        snapshot = self._snapshots.get(cache_key)
        if snapshot is None:
            if refusal:  # a refusal may be precisely because this desk cannot receive it
                self.catalogue.agency(agency)
                data = version.snapshot(agency)
            else:  # checks this kind of agency may receive the procedure
                data = self.catalogue.snapshot(code, day, agency)
            model = ProcedureSnapshot.model_validate(data)
            dumped = model.model_dump(mode="json")
            snapshot = self._snapshots[cache_key] = _Snapshot(model, dumped, json.dumps(dumped))
        return version, snapshot

    def _receipt(self, body: DossierIn, agency: str, key: str | None, request_hash: str, now: datetime,
                 officer: Officer | None, refusal: str | None, filing: OnlineFiling | None = None, *,
                 dossier_id: uuid.UUID | None = None, scans: list[DocumentManifest] | None = None) -> Receipt:
        """Everything the receipt writes, with a stand-in for the code the daily sequence gives at the end.
        `scans`: the draft's, checked against the checklist of the version it is received under."""
        day = local_day(now)
        version, snapshot = self._terms(body.procedure_code, agency, day, refusal is not None)
        if scans:
            check_drafts([str(name) for name in version.documents], [(s.checklist_item, s.item_name) for s in scans])
        due = appointment(version, now, self.calendar) if refusal is None else None
        placeholder = f"CODE{uuid.uuid4().hex}"  # random: no request can contain it
        # An online dossier takes its submission's id: nothing moves, the submission's files already name it.
        dossier_id = filing.id if filing is not None else dossier_id or uuid.uuid4()
        row = _row(body, agency, key, request_hash, snapshot, placeholder, now, due, officer, refusal, dossier_id)
        event: IntakeEvent = (
            _received_event(row, body, snapshot.model, self._name(agency), filing, scans or []) if refusal is None
            else _refused_event(row, body, snapshot.model, self._name(agency), refusal)
        )
        envelope = Envelope.for_event(event, now)
        outbox = envelope_row(envelope, event)  # the receipt's trace goes on with the event
        return Receipt(
            agency=agency, day=day, code_prefix=format_dossier_code(agency, day, 1).removesuffix("0001"),
            placeholder=placeholder, row=row, procedure_json=snapshot.json,
            outbox=outbox | {"headers": json.dumps(outbox["headers"])},
            history=_history(row, event, envelope, now),
        )

    def _name(self, agency: str) -> str:
        return self.catalogue.agency(agency).name

    async def _by_key(self, key: str) -> DossierRow | None:
        async with self.sessions() as session:
            return await dossiers.by_key(session, key)

    @staticmethod
    def _replayed(row: DossierRow, request_hash: str) -> DossierRow:
        if row.request_hash != request_hash:
            raise IdempotencyConflict("this Idempotency-Key was already used for a different dossier")
        return row

    # --- Form 02 at the counter, before acceptance: no code, no workflow -------------------------
    async def request_papers(self, body: PaperRequestIn, agency: str, officer: Officer) -> PaperRequestRow:
        now = self.clock.now()
        version = self.catalogue.procedure_version(body.procedure_code, local_day(now))
        self.catalogue.agency(agency)
        row = PaperRequestRow(
            id=uuid.uuid4(), agency=agency, officer=officer.sub, officer_name=officer.name,
            procedure_code=version.code, procedure_name=version.name, channel=body.channel.value,
            applicant_name=body.applicant.full_name, items=list(body.items), reason=body.reason, issued_at=now,
        )
        async with self.sessions() as session, session.begin():
            session.add(row)
        return row

    async def paper_request(self, request_id: uuid.UUID, officer: Officer) -> PaperRequestRow:
        async with self.sessions() as session:
            row = await dossiers.paper_request(session, request_id)
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
        scans: list[DocumentManifest] = []

        async def announce(session: AsyncSession, row: DossierRow, now: datetime) -> None:
            # The scans uploaded since the last event that carried any: this one announces them (issue 17).
            scans.extend(manifest_of(await scan_rows.announce(session, row.id, now)))

        def move(row: DossierRow, d: DeskDossier, now: datetime) -> IntakeEvent:
            rules.hand_in_supplement(d, now)
            added = [{**doc.model_dump(), "supplement_at": now.isoformat()} for doc in docs]
            row.documents = [*row.documents, *added]
            return SupplementSubmitted(**_base(row, officer.sub, now), documents=_summary(docs), manifest=scans,
                                       note=note)

        return await self._act(code, officer, move, before=announce)

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
            # The applicant's rating, entered by this officer: the event and the history row name who entered it.
            return DossierRated(**_base(row, officer.sub, now), rating=rating, comment=comment)

        return await self._act(code, officer, move)

    async def _act(
        self, code: str, officer: Officer, move: Callable[[DossierRow, DeskDossier, datetime], IntakeEvent],
        before: Callable[[AsyncSession, DossierRow, datetime], Awaitable[None]] | None = None,
    ) -> DossierRow:
        """`before` reads what the move needs in the same transaction, on the locked dossier; the move's
        refusal rolls back whatever it wrote."""
        async with self.sessions() as session, session.begin():
            row = await dossiers.by_code(session, code, for_update=True)
            if row is None or not may_see(officer, row.receiving_agency):
                raise NotFound(code)
            now = self.clock.now()
            if before is not None:
                await before(session, row, now)
            d = to_desk(row)
            event = move(row, d, now)  # raises IllegalMove: the transaction rolls back
            store_desk(row, d)
            session.add(row)
            envelope = await enqueue(session, self.outbox.table, event, now)
            await dossiers.add_history(session, _history(row, event, envelope, now))
        self.outbox.wake()
        return row

    # --- reading ---------------------------------------------------------------------------------
    async def get(self, session: AsyncSession, code: str, officer: Officer | None = None) -> DossierRow | None:
        row = await dossiers.by_code(session, code)
        return row if row is not None and may_see(officer, row.receiving_agency) else None

    async def dossier(self, code: str, officer: Officer) -> tuple[DossierRow, list[DossierHistoryRow]]:
        async with self.sessions() as session:
            row = await self.get(session, code, officer)
            if row is None:
                raise NotFound(code)
            history = await dossiers.history_of(session, row.id)
        return row, history

    async def lookup(self, code: str, last4: str) -> PublicStatus | None:
        """The citizen's view, or None whether the code is unknown or the digits do not match."""
        if not LAST4.match(last4):
            return None
        async with self.sessions() as session:
            row = await self.get(session, code)
        if row is None or not id_matches(row.personal_id, last4):
            return None
        return public_status(to_desk(row), str(row.procedure.get("name", "")), row.received_at)

    async def tracking_book(self, agency: str, start: date, end: date) -> list[DossierRow]:
        """Dossiers the agency received (or refused) on local days start..end."""
        book_period(start, end)
        since = datetime.combine(start, time(0), LOCAL)
        until = datetime.combine(end + timedelta(days=1), time(0), LOCAL)
        async with self.sessions() as session:
            return await dossiers.received_between(session, agency, since, until)


# --- what the desk's own events and rows say ---------------------------------------------------------------
def _base(row: DossierRow, actor: str, now: datetime) -> dict[str, Any]:
    return {"dossier_id": row.id, "code": row.code, "agency": row.receiving_agency, "actor": actor, "at": now}


def _summary(docs: list[DocumentIn]) -> DocumentSummary:
    return DocumentSummary(total=len(docs), digitised=sum(d.digitised for d in docs),
                           e_certified_requested=sum(d.e_certified_copy for d in docs))


def _history(row: DossierRow, event: IntakeEvent, envelope: Envelope, now: datetime) -> dict[str, Any]:
    """The history row of one of the desk's own events (`data`: the payload as JSON text, without the applicant)."""
    return {
        "dossier_id": row.id, "event_id": envelope.id, "event_type": envelope.type, "source": envelope.source,
        "at": now, "actor": event.actor, "agency": event.agency, "state": DeskState(row.state).code,
        "sub_state": row.sub_state, "handover": False,
        "note": str(getattr(event, "reason", "") or getattr(event, "note", "") or getattr(event, "method", "")),
        "data": event.model_dump_json(exclude={"applicant"}),
    }


def _row(body: DossierIn, agency: str, key: str | None, request_hash: str, snapshot: _Snapshot, code: str,
         now: datetime, due: datetime | None, officer: Officer | None, refusal: str | None,
         dossier_id: uuid.UUID) -> DossierRow:
    a = body.applicant
    refused = refusal is not None
    return new_row(
        id=dossier_id, code=code, receiving_agency=agency, procedure_code=snapshot.model.code,
        procedure_version=snapshot.model.version, channel=body.channel.value,
        state=(DeskState.REFUSED if refused else DeskState.RECEIVED).value,
        applicant_name=a.full_name, personal_id=a.personal_id, phone=a.phone, email=a.email,
        received_at=now, appointment_at=due, idempotency_key=key, request_hash=request_hash,
        procedure=snapshot.dumped, documents=[d.model_dump() for d in body.documents],
        received_by=officer.sub if officer else None, received_by_name=officer.name if officer else None,
        refusal_reason=refusal, closed_at=now if refused else None, updated_at=now,
    )


def _received_event(
    row: DossierRow, body: DossierIn, snapshot: ProcedureSnapshot, agency_name: str, filing: OnlineFiling | None,
    scans: list[DocumentManifest],
) -> DossierReceived:
    assert row.appointment_at is not None
    online: dict[str, Any] = {"manifest": scans} if filing is None else {  # at the desk: the scans taken before
        "submitted_at": filing.submitted_at, "manifest": filing.manifest, "online_payment": filing.online_payment}
    return DossierReceived(
        **_base(row, row.received_by or "", row.received_at),
        receiving_agency=row.receiving_agency, receiving_agency_name=agency_name, channel=body.channel,
        received_at=row.received_at, appointment_at=row.appointment_at, procedure=snapshot,
        applicant=_contact(row), documents=_summary(body.documents), **online,
    )


def _refused_event(
    row: DossierRow, body: DossierIn, snapshot: ProcedureSnapshot, agency_name: str, reason: str
) -> DossierRefused:
    return DossierRefused(
        **_base(row, row.received_by or "", row.received_at),
        receiving_agency=row.receiving_agency, receiving_agency_name=agency_name, procedure_code=snapshot.code,
        procedure_name=snapshot.name, channel=body.channel, reason=reason, applicant=_contact(row),
    )


def _not_online(body: DossierIn) -> None:
    """Form 06 counts online dossiers only from real submissions (issue 17 §2), never a desk's say-so."""
    if body.channel is Channel.ONLINE:
        raise InvalidInput(ONLINE_AT_DESK)


def _contact(row: DossierRow) -> Contact:
    return Contact(full_name=row.applicant_name, phone=row.phone, email=row.email)
