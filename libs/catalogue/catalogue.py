"""The catalogue: the agency tree and dated procedure versions, with look-ups. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from libs.catalogue.agency import Agency, AgencyKind
from libs.catalogue.checks import (
    agency_label,
    competent_problems,
    duplicates,
    procedure_label,
    tree_problems,
)
from libs.catalogue.errors import CatalogueError, NotInCatalogueError, Problem
from libs.catalogue.procedure import Level, Procedure, ProcedureVersion


class Catalogue:
    """Agencies (in configuration order) and procedures; construction checks all references."""

    def __init__(self, agencies: Iterable[Agency], procedures: Iterable[Procedure]) -> None:
        agency_list, procedure_list = list(agencies), list(procedures)
        _raise_if(_duplicate_problems([a.eid for a in agency_list], agency_label, "eid"), "agencies")
        codes = [p.code for p in procedure_list]
        _raise_if(_duplicate_problems(codes, procedure_label, "code"), "procedures")
        self._agencies = {a.eid: a for a in agency_list}
        self._procedures = {p.code: p for p in procedure_list}
        _raise_if(tree_problems(self._agencies), "agencies")
        _raise_if(competent_problems(procedure_list, self._agencies), "procedures")
        self._children: dict[str, list[Agency]] = {eid: [] for eid in self._agencies}
        for agency in agency_list:
            if agency.parent is not None:
                self._children[agency.parent].append(agency)

    # --- agencies -------------------------------------------------------------------------------
    def agency(self, eid: str) -> Agency:
        try:
            return self._agencies[eid]
        except KeyError:
            raise NotInCatalogueError.single(f"unknown agency {eid!r}") from None

    def agencies(self, kind: AgencyKind | None = None) -> list[Agency]:
        return [a for a in self._agencies.values() if kind is None or a.kind == kind]

    def children(self, eid: str) -> list[Agency]:
        self.agency(eid)
        return list(self._children[eid])

    def descendants(self, eid: str) -> list[Agency]:
        """The agency itself and everything below it, depth first."""
        found = [self.agency(eid)]
        for child in self._children[eid]:
            found.extend(self.descendants(child.eid))
        return found

    def ancestors(self, eid: str) -> list[Agency]:
        """Parent first, up to the root; the agency itself is not included."""
        chain: list[Agency] = []
        parent = self.agency(eid).parent
        while parent is not None:
            chain.append(self._agencies[parent])
            parent = self._agencies[parent].parent
        return chain

    # --- procedures -----------------------------------------------------------------------------
    def procedure(self, code: str) -> Procedure:
        try:
            return self._procedures[code]
        except KeyError:
            raise NotInCatalogueError.single(f"unknown procedure {code!r}") from None

    def procedure_version(self, code: str, on: date) -> ProcedureVersion:
        """The version in force on `on` (e.g. the dossier's receipt day)."""
        version = self.procedure(code).version_on(on)
        if version is None:
            reason = f"procedure {code!r} has no version in force on {on.isoformat()}"
            raise NotInCatalogueError.single(reason)
        return version

    def procedures(self, on: date, level: Level | None = None) -> list[ProcedureVersion]:
        """Versions in force on `on`, by code; optionally only one level."""
        found = (p.version_on(on) for p in self._procedures.values())
        return sorted((v for v in found if v and (level is None or v.level == level)), key=lambda v: v.code)

    def snapshot(self, code: str, on: date, receiving_agency: str) -> dict[str, Any]:
        """Snapshot for a dossier of `code` received at `receiving_agency` on `on` (checks it may receive)."""
        version = self.procedure_version(code, on)
        receiver = self.agency(receiving_agency)
        if receiver.kind not in version.received_at:
            allowed = ", ".join(version.received_at)
            reason = f"a {receiver.kind} cannot receive procedure {code!r} (received at: {allowed})"
            raise CatalogueError.single(reason)
        return version.snapshot(receiver.eid)


def _duplicate_problems(keys: list[str], label: Callable[[str], str], field: str) -> list[Problem]:
    return [Problem(label(key), field, "appears more than once") for key in duplicates(keys)]


def _raise_if(problems: list[Problem], source: str) -> None:
    if problems:
        raise CatalogueError(problems, source)
