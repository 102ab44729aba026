"""Ground truth for the reporting tests: Form 06 counted straight from the simulation's own lifecycles
(not from fact rows, not with the domain), and dumps of a generation's tables for comparisons."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.domain import Form06
from services.reporting.store.tables import generation_tables
from tests.integration.reporting.simevents import certification_act
from tests.unit.reporting.simulate import VN, SimDossier

Cells = dict[tuple[str, str], list[int]]


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def truth_form06(dossiers: list[SimDossier], agencies: set[str], start: datetime, end: datetime,
                 as_of: datetime | None = None) -> Cells:
    """Cols 3..13 and late-with-apology per (level, field), default counting rules, one dossier at a time."""
    cutoff = end if as_of is None else min(end, as_of)
    cells: Cells = defaultdict(lambda: [0] * 12)
    for d in dossiers:
        b = d.base
        if b.refused_at_desk or not ({b.receiving_agency, b.competent_agency} & agencies):
            continue
        if b.received_at >= cutoff:
            continue
        done_at = d.resolved[0] if d.resolved else None
        if b.received_at < start and done_at is not None and done_at < start:
            continue
        row = cells[(b.level, b.field)]
        row[0] += 1
        if b.received_at >= start:
            row[1 if b.channel == "online" else 2] += 1
        else:
            row[3] += 1
        # Each supplement wait finished by the cutoff pauses the clock by its length.
        appointment = b.appointment_at + sum(
            ((e - s) for s, e in d.waits if e is not None and e <= cutoff), timedelta())
        if d.resolved is not None and d.resolved[0] < cutoff:
            at, outcome = d.resolved
            row[4] += 1
            if outcome in ("withdrawn", "stopped"):
                verdict = 6
            elif _minute(at) > _minute(appointment):
                verdict = 7
            elif at.astimezone(VN).date() < appointment.astimezone(VN).date():
                verdict = 5
            else:
                verdict = 6
            row[verdict] += 1
            if verdict == 7 and d.apology is not None and d.apology[0] <= cutoff:
                row[11] += 1
        else:
            row[8] += 1
            waiting = any(s <= cutoff and (e is None or cutoff < e) for s, e in d.waits)
            row[10 if not waiting and _minute(cutoff) > _minute(appointment) else 9] += 1
    return dict(cells)


def truth_certifications(dossiers: list[SimDossier], agencies: set[str], first: date, last: date,
                         ) -> dict[str, dict[str, tuple[int, int]]]:
    """Per agency and medium: (acts, copies) of the simulated certification acts on local days [first, last]."""
    out: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for d in dossiers:
        act = certification_act(d)
        if act is None or d.base.receiving_agency not in agencies:
            continue
        at, medium, copies = act
        if first <= at.astimezone(VN).date() <= last:
            acts, total = out[d.base.receiving_agency].get(medium, (0, 0))
            out[d.base.receiving_agency][medium] = (acts + 1, total + copies)
    return dict(out)


def cells_of(form: Form06) -> Cells:
    return {(s.level, r.field): [*r.counts.columns(), r.counts.late_with_apology]
            for s in form.sections for r in s.rows}


async def dump(engine: AsyncEngine, generation: int) -> dict[str, Any]:
    """Every row of a generation (rollups without empty counters), for comparing two generations."""
    t = generation_tables(generation)
    out: dict[str, Any] = {}
    async with engine.connect() as conn:
        facts = (await conn.execute(select(t.facts))).mappings().all()
        out["facts"] = {row["dossier_id"]: dict(row) for row in facts}
        out["applied"] = set((await conn.execute(select(t.applied.c.event_id))).scalars())
        for table in (t.received_daily, t.resolved_daily, t.certified_daily):
            counted = [c for c in table.columns if c.name in ("count", "acts", "copies")]
            rows = (await conn.execute(select(table).where(counted[0] != 0))).mappings().all()
            key = [c.name for c in table.columns if c not in counted]
            out[table.name.split("_", 1)[1]] = {tuple(r[k] for k in key): tuple(r[c.name] for c in counted)
                                                for r in rows}
    return out
