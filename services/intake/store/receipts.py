"""The receipt's statements: the dossier, its history row and its outbox event, the daily number taken last.

The number's row lock serialises the receipts of one agency-day until commit (that is what keeps the numbers
gap-free), so nothing else may run while it is held. On PostgreSQL the whole receipt is one statement in
autocommit (sequence upsert → dossier → outbox + history, the code substituted for the stand-in by the server),
i.e. one atomic transaction whose lock lasts as long as the statement; elsewhere (SQLite) it is four statements
in one transaction, the number first (SQLite's writers are serialised anyway). The history row is the first entry
of the dossier's hash chain (domain/chain.py): on PostgreSQL the server takes its hash, once the code is known."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.db.bulk import Dialects, dialect_insert
from libs.identity import format_dossier_code
from services.intake.domain.chain import canonical, link
from services.intake.store.rows import DOSSIER_COLUMNS, dossier_values
from services.intake.store.tables import DAILY_SEQUENCES, DOSSIERS, HISTORY, DossierRow


@dataclass
class Receipt:
    """The rows one receipt (or desk refusal) writes; `placeholder` stands for the code until it is known."""

    agency: str
    day: date
    code_prefix: str  # the code without its number, e.g. 000.00.12.H55-261126-
    placeholder: str
    row: DossierRow
    procedure_json: str
    outbox: dict[str, Any]  # headers and payload as JSON text
    history: dict[str, Any]  # data as JSON text


async def write_receipt(engine: AsyncEngine, outbox: Table, r: Receipt) -> str:
    """Write the receipt's rows; returns the dossier code it got. IntegrityError when its Idempotency-Key
    was used before (no number is taken then)."""
    async with engine.connect() as conn:
        return await _WRITE.of(conn)(conn, outbox, r)


async def write_receipt_in(conn: AsyncConnection, outbox: Table, r: Receipt) -> str:
    """The same rows inside the caller's open transaction (the desk's decision on an online submission, which
    holds the submission's lock): the number's row lock then lasts until the caller commits."""
    return await _IN_TRANSACTION.of(conn)(conn, outbox, r)


async def _one_statement(conn: AsyncConnection, _outbox: Table, r: Receipt) -> str:
    await conn.execution_options(isolation_level="AUTOCOMMIT")
    return await _one_statement_in(conn, _outbox, r)


async def _one_statement_in(conn: AsyncConnection, _outbox: Table, r: Receipt) -> str:
    return str((await conn.exec_driver_sql(_PG_RECEIPT_SQL, _pg_params(r))).scalar_one())


async def _statements(conn: AsyncConnection, outbox: Table, r: Receipt) -> str:
    async with conn.begin():
        return await _statements_in(conn, outbox, r)


async def _statements_in(conn: AsyncConnection, outbox: Table, r: Receipt) -> str:
    seq = await _next_number(conn, r.agency, r.day)
    code = format_dossier_code(r.agency, r.day, seq)
    await conn.execute(DOSSIERS.insert().values(**dossier_values(r.row), code=code))
    await conn.execute(outbox.insert().values({
        **r.outbox, "headers": json.loads(r.outbox["headers"].replace(r.placeholder, code)),
        "payload": r.outbox["payload"].replace(r.placeholder, code)}))
    entry = {**r.history, "data": json.loads(r.history["data"].replace(r.placeholder, code))}
    await conn.execute(HISTORY.insert().values(link([entry], {})[0]))  # the first entry of the chain
    return code


async def _next_number(conn: AsyncConnection, agency: str, day: date) -> int:
    """The agency-day's next number (upsert; its row lock holds the other receipts of that day until commit)."""
    stmt = dialect_insert(conn, DAILY_SEQUENCES).values(agency=agency, day=day, last=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["agency", "day"], set_={"last": DAILY_SEQUENCES.c.last + 1}
    ).returning(DAILY_SEQUENCES.c.last)
    return int((await conn.execute(stmt)).scalar_one())


_WRITE: Dialects[Callable[[AsyncConnection, Table, Receipt], Awaitable[str]]] = Dialects(
    postgresql=_one_statement, portable=_statements,
)
_IN_TRANSACTION: Dialects[Callable[[AsyncConnection, Table, Receipt], Awaitable[str]]] = Dialects(
    postgresql=_one_statement_in, portable=_statements_in,
)


# --- the receipt as one statement on PostgreSQL ------------------------------------------------------
_JSON_COLUMNS = {"procedure", "documents"}
_OUTBOX_COLUMNS = ["event_id", "event_type", "topic", "key", "headers", "payload", "created_at"]
_CODE = "(SELECT code FROM d)"
_HISTORY_COLUMNS = ["dossier_id", "event_id", "event_type", "source", "at", "actor", "agency", "state", "sub_state",
                    "handover", "note", "data", "seq", "hash"]
# The history entry is the first of the dossier's chain (domain/chain.py): seq 1, no prev_hash, and its hash taken
# by the server over the canonical text computed here with the stand-in, the code put in by `replace` (the code
# and the stand-in are plain ASCII, so the canonical JSON of the stored entry is exactly that text).
_HISTORY_VALUES = {
    "data": f"CAST(replace(:h_data, :placeholder, {_CODE}) AS json)",
    "hash": f"encode(sha256(convert_to(replace(:h_canon, :placeholder, {_CODE}), 'UTF8')), 'hex')",
}
# NNNN: at least four digits, zero-padded, longer above 9999 (libs.identity.format_dossier_code).
_PG_RECEIPT = text(f"""
WITH seq AS (
    INSERT INTO daily_sequences (agency, day, last) VALUES (:seq_agency, :seq_day, 1)
    ON CONFLICT (agency, day) DO UPDATE SET last = daily_sequences.last + 1
    RETURNING last
), d AS (
    INSERT INTO dossiers (code, {", ".join(DOSSIER_COLUMNS)})
    VALUES ((SELECT :code_prefix || CASE WHEN last < 10000 THEN lpad(CAST(last AS text), 4, '0')
                                         ELSE CAST(last AS text) END FROM seq),
            {", ".join(f":d_{c}" for c in DOSSIER_COLUMNS)})
    RETURNING code
), o AS (
    INSERT INTO outbox ({", ".join(_OUTBOX_COLUMNS)})
    VALUES ({", ".join(
        f"CAST(replace(:o_{c}, :placeholder, {_CODE}) AS json)" if c == "headers"
        else f"replace(:o_{c}, :placeholder, {_CODE})" if c == "payload" else f":o_{c}"
        for c in _OUTBOX_COLUMNS)})
), h AS (
    INSERT INTO dossier_history ({", ".join(_HISTORY_COLUMNS)})
    VALUES ({", ".join(_HISTORY_VALUES.get(c, f":h_{c}") for c in _HISTORY_COLUMNS)})
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


def _pg_params(r: Receipt) -> tuple[Any, ...]:
    """Bind values for `_PG_RECEIPT_SQL`, in order (asyncpg takes JSON as text, timestamps aware)."""
    params: dict[str, Any] = {
        "seq_agency": r.agency, "seq_day": r.day, "placeholder": r.placeholder,
        "code_prefix": r.code_prefix,
    }
    for name, value in dossier_values(r.row).items():
        if name in _JSON_COLUMNS:
            value = r.procedure_json if name == "procedure" else json.dumps(value)
        elif isinstance(value, datetime):
            value = value.astimezone(UTC)
        params[f"d_{name}"] = value
    params.update({f"o_{name}": value for name, value in r.outbox.items()})
    params.update({f"h_{name}": value.astimezone(UTC) if isinstance(value, datetime) else value
                   for name, value in r.history.items()})
    params["h_seq"] = 1
    params["h_canon"] = canonical({**r.history, "data": json.loads(r.history["data"]), "seq": 1}, None)
    return tuple(params[name] for name in _PG_RECEIPT_PARAMS)
