"""Reporting's read model: generations of (facts, applied events, daily rollups) behind one pointer row.

Alembic owns the fixed tables (`read_model` pointer, `read_model_generations`, `inbox`). The tables of a
generation are derived data, named `rm<N>_…` and created by `GenerationTables.create` from the code's
current shape; a change of that shape (or of the rules baked into the rollups) is applied by a rebuild,
never by migrating rows: see services/reporting/rebuild.py. The Alembic env reads `metadata` from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    text,
)
from sqlalchemy.schema import CreateIndex, CreateTable

from libs.db.bulk import Dialects
from libs.db.types import UTCDateTime
from libs.messaging import inbox_table

metadata = MetaData()
INBOX = inbox_table(metadata)  # the live consumer's claimed event ids (a swap checks them against a generation)

POINTER_ID = 1
SHAPE = 2  # bump when the generation tables change shape; the next rebuild builds the new shape
# Shape 2: facts gain the manifest counts (documents_scanned, documents_reused, scanned_items) and a generation
# gains certified_daily (migration 6d2f8b0c4e17 adds both to the generations that exist).

# The one row every reader follows: which generation is live. Live writers hold it FOR SHARE while they
# apply an event; a rebuild swaps it under an exclusive row lock.
READ_MODEL = Table(
    "read_model",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", Integer, nullable=False),
    Column("swapped_at", UTCDateTime(), nullable=True),
)

GENERATIONS = Table(
    "read_model_generations",
    metadata,
    Column("generation", Integer, primary_key=True, autoincrement=False),
    Column("status", String(20), nullable=False),  # building | live | retired | dropped | failed
    Column("shape", Integer, nullable=False),
    Column("rules", JSON, nullable=False),  # the rules baked into the rollups (timezone, judge_to_minute)
    Column("origin", String(20), nullable=False),  # initial | rebuild
    Column("created_at", UTCDateTime(), nullable=False),
    Column("activated_at", UTCDateTime(), nullable=True),
    Column("retired_at", UTCDateTime(), nullable=True),
    Column("events", Integer, nullable=True),  # events replayed by the rebuild
)

_ROLLUP_KEY = ("receiving_agency", "competent_agency", "level", "field", "channel", "day")


@dataclass(frozen=True)
class GenerationTables:
    generation: int
    metadata: MetaData
    facts: Table
    applied: Table
    received_daily: Table
    resolved_daily: Table
    certified_daily: Table

    @property
    def prefix(self) -> str:
        return f"rm{self.generation}_"

    def create(self, conn: Connection, *, indexes: bool = True) -> None:
        """Create the tables (and, unless postponed for a bulk replay, their secondary indexes)."""
        for table in self.metadata.sorted_tables:
            conn.execute(CreateTable(table, if_not_exists=True))
        if indexes:
            self.create_indexes(conn)

    def create_indexes(self, conn: Connection) -> None:
        for index in self.facts.indexes:
            conn.execute(CreateIndex(index, if_not_exists=True))
        _MORE_INDEXES.of(conn)(conn, self)

    def drop(self, conn: Connection) -> None:
        for table in reversed(self.metadata.sorted_tables):
            table.drop(conn, checkfirst=True)


# The pending period of a dossier as a range, (received, resolved]; the GiST index and the query share it.
OPEN_RANGE = ("tstzrange(received_at, CASE WHEN resolved_at IS NULL THEN NULL "
              "ELSE GREATEST(resolved_at, received_at) END, '(]')")


def _open_range_index(conn: Connection, tables: GenerationTables) -> None:
    """PostgreSQL: a stabbing index — the dossiers still pending at a moment C are those with
    received < C <= resolved — and fresh statistics for the planner."""
    conn.execute(text(
        f"CREATE INDEX IF NOT EXISTS {tables.prefix}facts_open ON {tables.facts.name} USING gist "
        f"({OPEN_RANGE}) WHERE reportable"))
    for table in tables.metadata.sorted_tables:
        conn.execute(text(f"ANALYZE {table.name}"))


def _no_more_indexes(conn: Connection, tables: GenerationTables) -> None:
    """Elsewhere (SQLite) the declared indexes are all there is; Form 06 takes the reference path."""


_MORE_INDEXES: Dialects[Callable[[Connection, GenerationTables], None]] = Dialects(
    postgresql=_open_range_index, portable=_no_more_indexes)


@lru_cache(maxsize=8)
def generation_tables(generation: int) -> GenerationTables:
    if generation < 1:
        raise ValueError("generations start at 1")
    md = MetaData()
    p = f"rm{generation}_"
    facts = Table(
        f"{p}facts", md,
        Column("dossier_id", Uuid, primary_key=True),
        Column("code", String(64), nullable=False),
        Column("receiving_agency", String(40), nullable=False),
        Column("competent_agency", String(40), nullable=False),
        Column("procedure_code", String(64), nullable=False),
        Column("procedure_name", String(400), nullable=False),
        Column("procedure_version", Integer),
        Column("field", String(200), nullable=False),
        Column("level", String(10), nullable=False),
        Column("channel", String(20), nullable=False),
        Column("online_level", String(10), nullable=False),
        Column("time_limit_value", Float),
        Column("time_limit_unit", String(20)),
        Column("supplement_policy", String(20)),
        Column("has_receipt", Boolean, nullable=False),
        Column("has_case", Boolean, nullable=False),
        Column("refused_at_desk", Boolean, nullable=False),
        Column("refused_at", UTCDateTime()),
        Column("received_at", UTCDateTime()),
        Column("receipt_appointment_at", UTCDateTime()),  # from the desk (DossierReceived)
        Column("case_appointment_at", UTCDateTime()),  # from the workflow, moved by supplements and payments
        Column("appointment_at", UTCDateTime()),  # the original appointment in force (FactRow.appointment_at)
        Column("appointment_history", JSON(none_as_null=True)),  # [[appointment, replaced_at], …] oldest first, or NULL
        Column("extended_appointment_at", UTCDateTime()),  # new date of an apology letter (Form 04)
        Column("case_resolved_at", UTCDateTime()),
        Column("case_outcome", String(20)),
        Column("desk_withdrawn_at", UTCDateTime()),
        Column("resolved_at", UTCDateTime()),  # the earlier of the workflow's and the desk's ending
        Column("outcome", String(20)),
        Column("returned_at", UTCDateTime()),
        Column("supplement_requested", Integer, nullable=False),
        Column("waiting_supplement_since", UTCDateTime()),
        Column("supplement_waits", JSON(none_as_null=True)),  # [[requested_at, completed_at], …] or NULL
        Column("payment_requested", Integer, nullable=False),
        Column("paid_at", UTCDateTime()),
        Column("documents_total", Integer, nullable=False),
        Column("documents_digitised", Integer, nullable=False),
        Column("e_certified_copies_requested", Integer, nullable=False),
        Column("e_certified_copies_done", Integer, nullable=False),
        *manifest_columns(),
        Column("electronic_result", Boolean, nullable=False),
        Column("online_payment", Boolean),
        Column("rating", Integer),
        Column("rated_at", UTCDateTime()),
        Column("case_state", Integer),  # DVCQG state code 1–10 after the last workflow event
        Column("overdue_flagged_at", UTCDateTime()),
        Column("due_soon_flagged_at", UTCDateTime()),
        Column("responsible_agency", String(40)),
        Column("reportable", Boolean, nullable=False),  # received (not refused) with what Form 06 needs
        Column("irregular", Boolean, nullable=False),  # appointment moved after the resolution: judge per row
        Index(f"{p}facts_code", "code"),
        Index(f"{p}facts_receiving", "receiving_agency", "received_at"),
        Index(f"{p}facts_competent", "competent_agency", "received_at"),
        Index(f"{p}facts_received", "received_at"),
        Index(f"{p}facts_resolved", "resolved_at"),
        Index(f"{p}facts_irregular", "resolved_at", sqlite_where=text("irregular"), postgresql_where=text("irregular")),
        Index(f"{p}facts_pending", "competent_agency", "appointment_at",
              sqlite_where=text("resolved_at IS NULL AND reportable"),
              postgresql_where=text("resolved_at IS NULL AND reportable")),
    )
    applied = Table(
        f"{p}applied", md,
        Column("event_id", String(64), primary_key=True),
    )
    received_daily = Table(
        f"{p}received_daily", md,
        *(Column(name, Date if name == "day" else String(200), primary_key=True) for name in _ROLLUP_KEY),
        Column("count", Integer, nullable=False),
    )
    resolved_daily = Table(
        f"{p}resolved_daily", md,
        *(Column(name, Date if name == "day" else String(200), primary_key=True) for name in _ROLLUP_KEY),
        Column("outcome_class", String(10), primary_key=True),  # result | closing
        Column("timeliness", String(10), primary_key=True),  # early | on_time | late | irregular
        Column("apology", Boolean, primary_key=True),
        Column("count", Integer, nullable=False),
    )
    certified_daily = certified_daily_table(md, p)
    return GenerationTables(generation, md, facts, applied, received_daily, resolved_daily, certified_daily)


def manifest_columns() -> list[Column[Any]]:
    """The facts' columns of shape 2: what the receipt and supplement manifests announce (docs/domain.md §3.3)."""
    return [Column("documents_scanned", Integer, nullable=False, server_default="0"),
            Column("documents_reused", Integer, nullable=False, server_default="0"),
            Column("scanned_items", String(400), nullable=False, server_default="")]


def certified_daily_table(md: MetaData, prefix: str) -> Table:
    """Certification acts and copies per agency, local day and medium (from copy.certified, shape 2)."""
    return Table(
        f"{prefix}certified_daily", md,
        Column("agency", String(40), primary_key=True),
        Column("day", Date, primary_key=True),
        Column("medium", String(10), primary_key=True),  # paper | electronic
        Column("acts", Integer, nullable=False),
        Column("copies", Integer, nullable=False),
    )


RECEIVED_KEY = _ROLLUP_KEY
RESOLVED_KEY = (*_ROLLUP_KEY, "outcome_class", "timeliness", "apology")
