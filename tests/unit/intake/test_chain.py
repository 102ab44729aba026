"""The dossier's hash chain (issue 17 §4, services/intake/domain/chain.py): order, linkage, a changed field
breaks the chain from that entry, entries from before the chain are counted and not judged."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from services.intake.domain.chain import Link, canonical, entry_hash, link, verify

DOSSIER = uuid.UUID("5f0c8a2e-1b7d-4c39-9a61-0d2e8f4b7c10")
OTHER = uuid.UUID("00000000-0000-4000-8000-000000000002")
T0 = datetime(2026, 12, 7, 2, 30, tzinfo=UTC)


def entry(n: int, dossier: uuid.UUID = DOSSIER, **extra: Any) -> dict[str, Any]:
    return {"dossier_id": dossier, "event_id": f"ev-{dossier.hex[:4]}-{n}",
            "event_type": "vn.onestop.case.step_completed.v1", "source": "/onestop/processing",
            "at": T0 + timedelta(minutes=n), "actor": "cb-1",
            "agency": "000.00.21.H55", "state": 4, "note": f"bước {n}", "data": {"n": n, "items": ["a", "b"]},
            **extra}


def stored(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """As read back from the table: with row ids, in insertion order."""
    return [{"id": i, **r} for i, r in enumerate(rows, start=100)]


def test_entries_are_numbered_and_each_points_at_the_one_before() -> None:
    rows = link([entry(1), entry(2), entry(3)], {})
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert rows[0]["prev_hash"] is None
    assert [r["prev_hash"] for r in rows[1:]] == [r["hash"] for r in rows[:-1]]
    assert all(r["hash"] == entry_hash(r, r["prev_hash"]) for r in rows)
    verdict = verify(stored(rows))
    assert verdict.intact and verdict.entries == 3 and verdict.head == rows[-1]["hash"]
    assert verdict.first_changed is None and verdict.before_chain == 0


def test_a_batch_chains_each_dossier_on_from_its_last_link() -> None:
    earlier = link([entry(1), entry(2)], {})
    last = {DOSSIER: Link(earlier[-1]["seq"], earlier[-1]["hash"])}
    batch = link([entry(3), entry(1, OTHER), entry(4), entry(2, OTHER)], last)
    assert [(r["dossier_id"], r["seq"]) for r in batch] == [(DOSSIER, 3), (OTHER, 1), (DOSSIER, 4), (OTHER, 2)]
    assert batch[0]["prev_hash"] == earlier[-1]["hash"] and batch[2]["prev_hash"] == batch[0]["hash"]
    assert batch[1]["prev_hash"] is None and batch[3]["prev_hash"] == batch[1]["hash"]
    assert verify(stored([*earlier, batch[0], batch[2]])).intact
    assert verify(stored([batch[1], batch[3]])).intact


def test_order_matters() -> None:
    forward = link([entry(1), entry(2)], {})
    backward = link([entry(2), entry(1)], {})
    assert forward[-1]["hash"] != backward[-1]["hash"]


@pytest.mark.parametrize(("field", "value"), [
    ("note", "bước 2 (sửa)"), ("data", {"n": 2, "items": ["a"]}), ("actor", "cb-9"), ("state", 5),
    ("at", T0 + timedelta(minutes=2, microseconds=1)), ("handover", True), ("receiver", "cb-2"),
])
def test_a_changed_field_is_named_at_its_entry(field: str, value: Any) -> None:
    rows = stored(link([entry(1), entry(2), entry(3)], {}))
    rows[1][field] = value
    verdict = verify(rows)
    assert not verdict.intact and verdict.first_changed is not None
    assert (verdict.first_changed.id, verdict.first_changed.seq) == (101, 2)
    assert verdict.first_changed.event_type == "vn.onestop.case.step_completed.v1"


def test_a_rewritten_hash_breaks_the_next_link_and_a_removed_entry_leaves_a_gap() -> None:
    rows = stored(link([entry(1), entry(2), entry(3)], {}))
    forged = [dict(r) for r in rows]
    forged[1]["note"] = "forged"
    forged[1]["hash"] = entry_hash(forged[1], forged[1]["prev_hash"])  # recomputed: the next entry no longer fits
    assert verify(forged).first_changed.seq == 3  # type: ignore[union-attr]
    removed = [rows[0], rows[2]]
    assert verify(removed).first_changed.seq == 3  # type: ignore[union-attr]
    moved = [dict(r) for r in rows]
    moved[2]["prev_hash"] = moved[0]["hash"]
    assert verify(moved).first_changed.id == 102  # type: ignore[union-attr]


def test_entries_from_before_the_chain_are_counted_not_judged() -> None:
    old = [{**entry(0), "seq": None, "prev_hash": None, "hash": None, "id": 1},
           {**entry(1), "seq": None, "prev_hash": None, "hash": None, "id": 2}]
    rows = old + stored(link([entry(2), entry(3)], {}))
    verdict = verify(rows)
    assert verdict.intact and verdict.before_chain == 2 and verdict.entries == 2
    # an entry of the chain stripped of its chain fields is no "old" entry
    stripped = [dict(r) for r in rows]
    stripped[-1] |= {"seq": None, "prev_hash": None, "hash": None}
    verdict = verify(stripped)
    assert not verdict.intact and verdict.first_changed.id == 101  # type: ignore[union-attr]
    assert verify(old).intact and verify(old).head is None


def test_the_canonical_form_is_fixed() -> None:
    """Sorted keys, ASCII, UTC datetimes with microseconds, UUIDs as text, every field present."""
    later = T0.astimezone(timezone(timedelta(hours=7)))
    a = canonical({**entry(1), "at": T0, "seq": 1}, None)
    b = canonical({**entry(1), "at": later, "seq": 1}, None)
    assert a == b and a.isascii()
    parsed = json.loads(a)
    assert parsed["at"] == "2026-12-07T02:30:00.000000Z" and parsed["dossier_id"] == str(DOSSIER)
    assert parsed["receiver"] is None and parsed["prev_hash"] is None and list(parsed) == sorted(parsed)
    with pytest.raises(ValueError, match="naive"):
        canonical({**entry(1), "at": datetime(2026, 1, 1)}, None)
