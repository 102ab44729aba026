"""Service layer of the desk: one unit of work per action (state change + history + outbox event)."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy import any_, bindparam, text, update
from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session, configure_mappers
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.auth import Officer
from libs.calendar import WorkCalendar
from libs.catalogue import Catalogue, ProcedureVersion
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
from libs.db.sql import pg_array, pg_value
from libs.identity import format_dossier_code
from libs.messaging import enqueue, envelope_row
from libs.observability import Children
from libs.runtime import Runtime
from services.intake.domain import desk as rules
from services.intake.domain.desk import CaseUpdate, DeskDossier
from services.intake.domain.forms import HistoryEntry, book_period
from services.intake.domain.lookup import LAST4, PublicStatus, id_matches, public_status
from services.intake.domain.receipt import LOCAL, appointment, fingerprint, local_day
from services.intake.domain.states import DeskState
from services.intake.schemas import DocumentIn, DossierIn, PaperRequestIn
from services.intake.store import DAILY_SEQUENCES, DOSSIERS, HISTORY, DossierHistoryRow, DossierRow, PaperRequestRow

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


@dataclass(frozen=True)
class _Snapshot:
    """A procedure version as received at one desk: the model, its JSON dict and its JSON text."""

    model: ProcedureSnapshot
    dumped: dict[str, Any]
    json: str


@dataclass
class _Receipt:
    """The rows one receipt (or desk refusal) writes; `placeholder` stands for the code until it is known."""

    agency: str
    day: date
    code_prefix: str  # the code without its number, e.g. 000.00.12.H55-261126-
    placeholder: str
    row: DossierRow
    procedure_json: str
    outbox: dict[str, Any]  # headers and payload as JSON text
    history: dict[str, Any]  # data as JSON text


@dataclass
class Desk:
    rt: Runtime
    catalogue: Catalogue
    calendar: WorkCalendar
    received_total: Counter
    # Snapshots by (procedure, version, desk, refusal): the catalogue does not change while the desk runs.
    _snapshots: dict[tuple[str, int, str, bool], _Snapshot] = field(default_factory=dict, init=False, repr=False)
    _autocommit: AsyncEngine = field(init=False, repr=False)
    _received: Children = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._autocommit = self.rt.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._received = Children(self.received_total)
        configure_mappers()  # `_new_row` builds rows without the constructor, which would configure them

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
        now = self.rt.clock.now()
        try:
            receipt = self._receipt(body, agency, key, request_hash, now, officer, refusal)
        except Exception:  # a replay answers as it did the first time, whatever the catalogue says today
            if key and (done := await self._by_key(key)) is not None:
                return self._replayed(done, request_hash), False
            raise
        try:
            row = await self._store(receipt)
        except IntegrityError:  # the key was used before (or the same key raced us and won): no number taken
            done = await self._by_key(key) if key else None
            if done is None:
                raise
            return self._replayed(done, request_hash), False
        if refusal is None:
            self._received("intake", agency, body.procedure_code, body.channel.value).inc()
        self.rt.wake_relay()
        return row, True

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
                 officer: Officer | None, refusal: str | None) -> _Receipt:
        """Everything the receipt writes, with a stand-in for the code the daily sequence gives at the end."""
        day = local_day(now)
        version, snapshot = self._terms(body.procedure_code, agency, day, refusal is not None)
        due = appointment(version, now, self.calendar) if refusal is None else None
        placeholder = f"CODE{uuid.uuid4().hex}"  # random: no request can contain it
        row = _row(body, agency, key, request_hash, snapshot, placeholder, now, due, officer, refusal)
        event: IntakeEvent = (
            _received_event(row, body, snapshot.model, self._name(agency)) if refusal is None
            else _refused_event(row, body, snapshot.model, self._name(agency), refusal)
        )
        envelope = Envelope.for_event(event, now)
        outbox = envelope_row(envelope, event)  # the receipt's trace goes on with the event
        return _Receipt(
            agency=agency, day=day, code_prefix=format_dossier_code(agency, day, 1).removesuffix("0001"),
            placeholder=placeholder, row=row, procedure_json=snapshot.json,
            outbox=outbox | {"headers": json.dumps(outbox["headers"])},
            history=_history(row, event, envelope, now),
        )

    async def _store(self, r: _Receipt) -> DossierRow:
        """Write the dossier, its history row and its outbox event; the daily number is taken last.

        The number's row lock serialises the receipts of one agency-day until commit (that is what keeps
        the numbers gap-free), so nothing else may run while it is held: on PostgreSQL the whole receipt is
        one statement in autocommit (sequence upsert → dossier → outbox + history, the code substituted for
        the stand-in by the server), i.e. one atomic transaction whose lock lasts as long as the statement."""
        if self.rt.engine.dialect.name == "postgresql":
            async with self._autocommit.connect() as conn:
                code = (await conn.exec_driver_sql(_PG_RECEIPT_SQL, _pg_params(r))).scalar_one()
        else:
            async with self.rt.sessions() as session, session.begin():
                seq = await increment_counter(session, DAILY_SEQUENCES, {"agency": r.agency, "day": r.day}, "last")
                code = format_dossier_code(r.agency, r.day, seq)
                await session.execute(DOSSIERS.insert().values(**_dossier_values(r.row), code=code))
                assert self.rt.outbox is not None
                await session.execute(self.rt.outbox.insert().values({
                    **r.outbox, "headers": json.loads(r.outbox["headers"].replace(r.placeholder, code)),
                    "payload": r.outbox["payload"].replace(r.placeholder, code)}))
                await session.execute(HISTORY.insert().values({
                    **r.history, "data": json.loads(r.history["data"].replace(r.placeholder, code))}))
        r.row.code = code
        return r.row

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
        history = _history(row, event, envelope, now)
        await session.execute(HISTORY.insert().values({**history, "data": json.loads(history["data"])}))

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
_FOLLOWING = "intake.following"  # session.info key: the events of the consumer batch being applied


async def follow_case(session: AsyncSession, event: CaseEvent, envelope: Envelope) -> None:
    """Mirror a processing event at the desk and keep it in the dossier's history (the caller's transaction).

    The consumer calls this once per event of a batch; the events are collected and the whole batch is applied
    just before the transaction commits (`_follow_batch`): one SELECT of the desk columns FOR UPDATE, one
    UPDATE of the dossiers that moved and one INSERT of the history rows, instead of three statements an event.
    What the desk cannot read is refused here, so the consumer dead-letters that event alone."""
    change = case_update(event, envelope.type)
    DeskState.from_code(change.state_code)  # ValueError for a state code the desk does not know
    sync = session.sync_session
    pending: list[tuple[CaseEvent, Envelope, CaseUpdate]] | None = sync.info.get(_FOLLOWING)
    if pending is None:
        pending = sync.info[_FOLLOWING] = []
        sa_event.listen(sync, "before_commit", _follow_batch, once=True)
        sa_event.listen(sync, "after_rollback", _forget_batch, once=True)
    pending.append((event, envelope, change))


def _forget_batch(session: Session) -> None:
    session.info.pop(_FOLLOWING, None)


def _follow_batch(session: Session) -> None:
    """Apply the collected events in order (synchronous: runs inside the commit, through the greenlet bridge)."""
    pending: list[tuple[CaseEvent, Envelope, CaseUpdate]] = session.info.pop(_FOLLOWING, [])
    if not pending:
        return
    conn = session.connection()
    postgres = conn.dialect.name == "postgresql"
    ids = sorted({event.dossier_id for event, _, _ in pending})
    query = select(DOSSIERS.c.id, *(DOSSIERS.c[name] for name in _DESK_FIELDS)).order_by(DOSSIERS.c.id)
    query = query.where(DOSSIERS.c.id == any_(_IDS) if postgres else DOSSIERS.c.id.in_(ids)).with_for_update()
    found = {row["id"]: _desk_of(row) for row in conn.execute(query, {"ids": ids} if postgres else {}).mappings()}
    before = {dossier_id: replace(d) for dossier_id, d in found.items()}
    history: list[dict[str, Any]] = []
    for event, envelope, change in pending:
        d = found.get(event.dossier_id)
        if d is None:
            log.warning("processing event %s for a dossier intake does not know (%s)", envelope.type, event.code)
            continue
        rules.follow(d, change)
        history.append(_case_history(event, envelope, postgres))
    moved = [(dossier_id, d) for dossier_id, d in found.items() if d != before[dossier_id]]
    if moved and postgres:
        conn.execute(_PG_FOLLOW_UPDATE, {
            "id": [dossier_id for dossier_id, _ in moved],
            **{name: [_column_value(d, name) for _, d in moved] for name in _MUTABLE_FIELDS},
        })
    elif moved:
        conn.execute(_FOLLOW_UPDATE, [
            {"b_id": dossier_id, **{f"b_{name}": _column_value(d, name) for name in _MUTABLE_FIELDS}}
            for dossier_id, d in moved
        ])
    if history and postgres:
        conn.execute(_PG_HISTORY_INSERT, {name: [h[name] for h in history] for name in _CASE_HISTORY_COLUMNS})
    elif history:
        conn.execute(HISTORY.insert(), history)


def _case_history(event: CaseEvent, envelope: Envelope, json_text: bool) -> dict[str, Any]:
    return {
        "dossier_id": event.dossier_id, "event_id": envelope.id, "event_type": envelope.type,
        "source": envelope.source, "at": event.at, "actor": event.actor, "agency": event.agency,
        "state": event.state, "sub_state": event.sub_state, "handover": event.handover, "receiver": event.receiver,
        "receiver_agency": event.receiver_agency, "step_code": event.step_code, "step_name": event.step_name,
        "step_deadline": event.step_deadline, "timeliness": event.timeliness, "note": event.note,
        "data": event.model_dump_json() if json_text else event.model_dump(mode="json"),
    }


def _desk_of(row: Any) -> DeskDossier:
    values: dict[str, Any] = {name: row[name] for name in _DESK_FIELDS}
    values["state"] = DeskState(values["state"])
    return DeskDossier(**values)


def _column_value(d: DeskDossier, name: str) -> Any:
    value = getattr(d, name)
    return value.value if isinstance(value, DeskState) else value


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


# --- the receipt as one statement on PostgreSQL ------------------------------------------------------
_DOSSIER_COLUMNS = [c.name for c in DOSSIERS.columns if c.name != "code"]
_JSON_COLUMNS = {"procedure", "documents"}
_OUTBOX_COLUMNS = ["event_id", "event_type", "topic", "key", "headers", "payload", "created_at"]
_HISTORY_COLUMNS = ["dossier_id", "event_id", "event_type", "source", "at", "actor", "agency", "state", "sub_state",
                    "handover", "note", "data"]
_CODE = "(SELECT code FROM d)"
# NNNN: at least four digits, zero-padded, longer above 9999 (libs.identity.format_dossier_code).
_PG_RECEIPT = text(f"""
WITH seq AS (
    INSERT INTO daily_sequences (agency, day, last) VALUES (:seq_agency, :seq_day, 1)
    ON CONFLICT (agency, day) DO UPDATE SET last = daily_sequences.last + 1
    RETURNING last
), d AS (
    INSERT INTO dossiers (code, {", ".join(_DOSSIER_COLUMNS)})
    VALUES ((SELECT :code_prefix || CASE WHEN last < 10000 THEN lpad(CAST(last AS text), 4, '0')
                                         ELSE CAST(last AS text) END FROM seq),
            {", ".join(f":d_{c}" for c in _DOSSIER_COLUMNS)})
    RETURNING code
), o AS (
    INSERT INTO outbox ({", ".join(_OUTBOX_COLUMNS)})
    VALUES ({", ".join(
        f"CAST(replace(:o_{c}, :placeholder, {_CODE}) AS json)" if c == "headers"
        else f"replace(:o_{c}, :placeholder, {_CODE})" if c == "payload" else f":o_{c}"
        for c in _OUTBOX_COLUMNS)})
), h AS (
    INSERT INTO dossier_history ({", ".join(_HISTORY_COLUMNS)})
    VALUES ({", ".join(
        f"CAST(replace(:h_{c}, :placeholder, {_CODE}) AS json)" if c == "data" else f":h_{c}"
        for c in _HISTORY_COLUMNS)})
)
SELECT code FROM d
""")


# The same statement with asyncpg's positional parameters ($1, $2, … in order of first use), run through
# `exec_driver_sql`: SQLAlchemy's error translation and pool handling stay, the per-call compile step goes.
_PG_RECEIPT_PARAMS: list[str] = []


def _positional(match: re.Match[str]) -> str:
    name = match.group(1)
    if name not in _PG_RECEIPT_PARAMS:
        _PG_RECEIPT_PARAMS.append(name)
    return f"${_PG_RECEIPT_PARAMS.index(name) + 1}"


_PG_RECEIPT_SQL = re.sub(r"(?<![:\w]):(\w+)", _positional, _PG_RECEIPT.text)


def _dossier_values(row: DossierRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _DOSSIER_COLUMNS}


def _pg_params(r: _Receipt) -> tuple[Any, ...]:
    """Bind values for `_PG_RECEIPT_SQL`, in order (asyncpg takes JSON as text, timestamps aware)."""
    params: dict[str, Any] = {
        "seq_agency": r.agency, "seq_day": r.day, "placeholder": r.placeholder,
        "code_prefix": r.code_prefix,
    }
    for name, value in _dossier_values(r.row).items():
        if name in _JSON_COLUMNS:
            value = r.procedure_json if name == "procedure" else json.dumps(value)
        elif isinstance(value, datetime):
            value = value.astimezone(UTC)
        params[f"d_{name}"] = value
    params.update({f"o_{name}": value for name, value in r.outbox.items()})
    params.update({f"h_{name}": value.astimezone(UTC) if isinstance(value, datetime) else value
                   for name, value in r.history.items()})
    return tuple(params[name] for name in _PG_RECEIPT_PARAMS)


# --- mapping rows <-> the pure desk view --------------------------------------------------------------
_DESK_FIELDS = [f.name for f in fields(DeskDossier)]
_MUTABLE_FIELDS = [name for name in _DESK_FIELDS if name not in ("code", "receiving_agency")]
_CASE_HISTORY_COLUMNS = [c.name for c in HISTORY.columns if c.name != "id"]
_IDS = bindparam("ids", type_=postgresql.ARRAY(DOSSIERS.c.id.type))


# One statement per consumer batch on PostgreSQL (array parameters), executemany elsewhere.
_PG_FOLLOW_UPDATE = text(f"""
UPDATE dossiers SET {", ".join(f"{name} = v.{name}" for name in _MUTABLE_FIELDS)}
FROM unnest({", ".join(pg_array(name, DOSSIERS.c[name]) for name in ["id", *_MUTABLE_FIELDS])})
    AS v(id, {", ".join(_MUTABLE_FIELDS)})
WHERE dossiers.id = v.id
""")
_FOLLOW_UPDATE = (
    update(DOSSIERS).where(DOSSIERS.c.id == bindparam("b_id"))
    .values({name: bindparam(f"b_{name}") for name in _MUTABLE_FIELDS})
)
_PG_HISTORY_INSERT = text(f"""
INSERT INTO dossier_history ({", ".join(_CASE_HISTORY_COLUMNS)})
SELECT {", ".join(pg_value(f"v.{name}", HISTORY.c[name]) for name in _CASE_HISTORY_COLUMNS)}
FROM unnest({", ".join(pg_array(name, HISTORY.c[name]) for name in _CASE_HISTORY_COLUMNS)})
    AS v({", ".join(_CASE_HISTORY_COLUMNS)})
""")


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


def _history(row: DossierRow, event: IntakeEvent, envelope: Envelope, now: datetime) -> dict[str, Any]:
    """The history row of one of the desk's own events (`data`: the payload as JSON text, without the applicant)."""
    return {
        "dossier_id": row.id, "event_id": envelope.id, "event_type": envelope.type, "source": envelope.source,
        "at": now, "actor": event.actor, "agency": event.agency, "state": DeskState(row.state).code,
        "sub_state": row.sub_state, "handover": False,
        "note": str(getattr(event, "reason", "") or getattr(event, "note", "") or getattr(event, "method", "")),
        "data": event.model_dump_json(exclude={"applicant"}),
    }


def _row(body: DossierIn, agency: str, key: str | None, request_hash: str, snapshot: _Snapshot,
         code: str, now: datetime, due: datetime | None, officer: Officer | None, refusal: str | None) -> DossierRow:
    a = body.applicant
    refused = refusal is not None
    return _new_row(
        id=uuid.uuid4(), code=code, receiving_agency=agency, procedure_code=snapshot.model.code,
        procedure_version=snapshot.model.version, channel=body.channel.value,
        state=(DeskState.REFUSED if refused else DeskState.RECEIVED).value,
        applicant_name=a.full_name, personal_id=a.personal_id, phone=a.phone, email=a.email,
        received_at=now, appointment_at=due, idempotency_key=key, request_hash=request_hash,
        procedure=snapshot.dumped, documents=[d.model_dump() for d in body.documents],
        received_by=officer.sub if officer else None, received_by_name=officer.name if officer else None,
        refusal_reason=refusal, closed_at=now if refused else None, updated_at=now,
    )


# Every column's default, for `_new_row` (the factories give fresh dicts and lists each time).
_ROW_DEFAULTS = {name: f for name, f in DossierRow.model_fields.items() if not f.is_required()}
_ROW_FACTORY = sa_inspect(DossierRow).class_manager


def _new_row(**values: Any) -> DossierRow:
    """A transient DossierRow from complete column values, built the way the ORM builds a loaded row (a new
    instance with its state, the values put in its dict): `DossierRow(**values)` would instead go through
    SQLModel's and SQLAlchemy's instrumented setattr once per column (about 100 µs a receipt)."""
    row: DossierRow = _ROW_FACTORY.new_instance()
    data = row.__dict__
    for name, f in _ROW_DEFAULTS.items():
        if name not in values:
            data[name] = f.get_default(call_default_factory=True)
    data.update(values)
    object.__setattr__(row, "__pydantic_fields_set__", set(values))
    return row


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
