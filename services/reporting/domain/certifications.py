"""Certification facts (chứng thực bản sao): one count per agency, local day and medium, from `copy.certified`.

Each act entered in a certification book (one number, paper or electronic, docs/domain.md §4.1, §4.5) is one
`CopyCertified` event; reporting keeps acts and copies per (agency, local day, medium). The e-certification rate
is electronic ACTS / all acts: the ward counts certifications, not sheets (254 of 323 = 78.6 %, §4.2)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from libs.contracts.intake import CopyCertified

from .measures import Rate

MEDIA = ("paper", "electronic")
CertKey = tuple[str, date, str]  # (agency, local day, medium)


@dataclass(frozen=True, slots=True)
class Certified:
    """Acts and copies of one medium."""

    acts: int = 0
    copies: int = 0

    def __add__(self, other: Certified) -> Certified:
        return Certified(self.acts + other.acts, self.copies + other.copies)


@dataclass(frozen=True, slots=True)
class Certifications:
    """An agency's (or a set's) certifications of a period, paper and electronic."""

    paper: Certified = Certified()
    electronic: Certified = Certified()

    @property
    def e_certification(self) -> Rate:
        """Electronic acts / all acts (docs/domain.md §3.3, §4.2)."""
        return Rate(self.electronic.acts, self.electronic.acts + self.paper.acts)

    def add(self, medium: str, acts: int, copies: int) -> Certifications:
        more = Certified(acts, copies)
        if medium == "electronic":
            return Certifications(self.paper, self.electronic + more)
        return Certifications(self.paper + more, self.electronic)


def certification_deltas(events: Iterable[tuple[CopyCertified, date]]) -> dict[CertKey, Certified]:
    """What a batch of acts adds to the daily counts: (event, its local day) → (agency, day, medium) → acts,
    copies. An unknown medium is no certification fact (the contract says paper | electronic)."""
    out: dict[CertKey, Certified] = {}
    for event, day in events:
        if event.medium not in MEDIA:
            continue
        key = (event.agency, day, event.medium)
        out[key] = out.get(key, Certified()) + Certified(1, event.copies)
    return out


def totals(rows: Iterable[tuple[str, int, int]]) -> Certifications:
    """(medium, acts, copies) rows summed into one `Certifications`."""
    found = Certifications()
    for medium, acts, copies in rows:
        found = found.add(medium, int(acts), int(copies))
    return found
