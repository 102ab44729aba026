"""The dossier's tamper-evident record (issue 17 §4): its history entries form a hash chain. Pure.

Each entry stores its place in the dossier's chain (`seq`, 1, 2, …), the hash of the entry before it (`prev_hash`,
none for the first) and its own `hash`: SHA-256 (hex) of a canonical serialisation of the entry's content fields
and `prev_hash` — sorted-key JSON, ASCII only, no spaces, datetimes in UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ`,
UUIDs as text. Changing any stored field of an entry changes its hash; changing the stored hash breaks the next
entry's `prev_hash`; removing an entry leaves a gap in `seq`. The last hash (the head) is printed on the
process-control slip, so that removing the last entries shows too.

Entries written before the chain existed have no `seq` and no hash: the chain starts at the first hashed entry,
and they are counted, not judged."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

# What an entry says, besides its chain fields: every column of `dossier_history` but its row id.
CONTENT = ("dossier_id", "seq", "event_id", "event_type", "source", "at", "actor", "agency", "state", "sub_state",
           "handover", "receiver", "receiver_agency", "step_code", "step_name", "step_deadline", "timeliness",
           "note", "data")
# The value a column holds when the writer does not name it (the table's defaults).
DEFAULTS: dict[str, Any] = {name: None for name in CONTENT} | {"handover": False, "note": "", "data": {}}


@dataclass(frozen=True)
class Link:
    """The last entry of a dossier's chain: where the next one goes and what it points back to."""

    seq: int
    hash: str


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a naive datetime in a chained entry")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"a chained entry holds a {type(value).__name__}, which has no canonical form")


def canonical(entry: Mapping[str, Any], prev_hash: str | None) -> str:
    """The text an entry's hash is taken over (fields the entry does not name take the table's defaults)."""
    content = {name: _plain(entry.get(name, DEFAULTS[name])) for name in CONTENT}
    return json.dumps({**content, "prev_hash": prev_hash}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True, allow_nan=False)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def entry_hash(entry: Mapping[str, Any], prev_hash: str | None) -> str:
    return digest(canonical(entry, prev_hash))


def link(entries: Iterable[Mapping[str, Any]], last: Mapping[Any, Link]) -> list[dict[str, Any]]:
    """The entries, in the order given, appended to their dossiers' chains (`last`: each dossier's last link,
    absent for a dossier whose chain has not started): every field filled, `seq`, `prev_hash` and `hash` set."""
    heads = dict(last)
    out: list[dict[str, Any]] = []
    for entry in entries:
        dossier = entry["dossier_id"]
        before = heads.get(dossier)
        row = {**DEFAULTS, **entry, "seq": before.seq + 1 if before else 1}
        row["prev_hash"] = before.hash if before else None
        row["hash"] = entry_hash(row, row["prev_hash"])
        heads[dossier] = Link(row["seq"], row["hash"])
        out.append(row)
    return out


@dataclass(frozen=True)
class Changed:
    """The first entry that does not hold what was chained: its row id, place, type and time."""

    id: int
    seq: int | None
    event_type: str
    at: datetime
    why: str


@dataclass(frozen=True)
class Verdict:
    intact: bool
    head: str | None  # the last chained entry's stored hash
    entries: int  # chained entries
    before_chain: int  # entries written before the chain existed (no hash: not judged)
    first_changed: Changed | None


def verify(rows: Sequence[Mapping[str, Any]]) -> Verdict:
    """Recompute one dossier's chain from its stored entries (each with `id`, the CONTENT fields, `prev_hash`,
    `hash`; any order) and name the first entry whose content, link or place does not match."""
    chained = sorted((r for r in rows if r["seq"] is not None or r["hash"] is not None),
                     key=lambda r: (r["seq"] is None, r["seq"] or 0, r["id"]))
    start = min((r["id"] for r in chained), default=None)
    # An entry without a hash written after the chain started had its chain fields removed.
    unhashed_late = sorted((r for r in rows if r["seq"] is None and r["hash"] is None
                            and start is not None and r["id"] > start), key=lambda r: r["id"])
    before_chain = sum(1 for r in rows if r["seq"] is None and r["hash"] is None) - len(unhashed_late)
    changed: Changed | None = None
    prev: str | None = None
    for place, row in enumerate(chained, start=1):
        why = _fault(row, place, prev)
        if why is not None:
            changed = _changed(row, why)
            break
        prev = row["hash"]
    if changed is None and unhashed_late:
        changed = _changed(unhashed_late[0], "no hash, though written after the chain started")
    head = chained[-1]["hash"] if chained else None
    return Verdict(changed is None, head, len(chained), before_chain, changed)


def _fault(row: Mapping[str, Any], place: int, prev: str | None) -> str | None:
    if row["seq"] != place:
        return f"out of place: number {row['seq']} where {place} belongs (an entry removed or moved)"
    if row["prev_hash"] != prev:
        return "does not point at the entry before it"
    if row["hash"] != entry_hash(row, row["prev_hash"]):
        return "its content does not match its hash"
    return None


def _changed(row: Mapping[str, Any], why: str) -> Changed:
    return Changed(id=row["id"], seq=row["seq"], event_type=row["event_type"], at=row["at"], why=why)
