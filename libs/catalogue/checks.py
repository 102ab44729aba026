"""Cross-entry checks: unique keys, the agency tree, competent agencies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from libs.catalogue.agency import Agency
from libs.catalogue.errors import Problem
from libs.catalogue.procedure import RECEIVING_WARD, Procedure


def agency_label(eid: str) -> str:
    return f"agency {eid!r}"


def procedure_label(code: str, version: int | None = None) -> str:
    return f"procedure {code!r}" + (f" version {version}" if version is not None else "")


def duplicates(keys: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for key in keys:
        if key in seen and key not in repeated:
            repeated.append(key)
        seen.add(key)
    return repeated


def tree_problems(agencies: Mapping[str, Agency]) -> list[Problem]:
    problems = [
        Problem(agency_label(a.eid), "parent", f"parent agency {a.parent!r} does not exist")
        for a in agencies.values()
        if a.parent is not None and a.parent not in agencies
    ]
    if problems:
        return problems
    cycle = "the parent chain forms a cycle"
    return [Problem(agency_label(eid), "parent", cycle) for eid in _cycles(agencies)]


def _cycles(agencies: Mapping[str, Agency]) -> list[str]:
    on_cycle: list[str] = []
    for start in agencies:
        seen = {start}
        current = agencies[start].parent
        while current is not None and current not in seen:
            seen.add(current)
            current = agencies[current].parent
        if current == start:
            on_cycle.append(start)
    return on_cycle


def competent_problems(procedures: Iterable[Procedure], agencies: Mapping[str, Agency]) -> list[Problem]:
    problems: list[Problem] = []
    for procedure in procedures:
        for version in procedure.versions:
            reason = _competent_reason(version.competent, agencies)
            if reason:
                entry = procedure_label(procedure.code, version.version)
                problems.append(Problem(entry, "competent", reason))
    return problems


def _competent_reason(competent: str, agencies: Mapping[str, Agency]) -> str | None:
    if competent == RECEIVING_WARD:
        return None
    agency = agencies.get(competent)
    if agency is None:
        return f"competent agency {competent!r} does not exist"
    if agency.kind != "department":
        return f"competent agency {competent!r} is a {agency.kind}, expected a department"
    return None
