"""Form 06 (Biểu số 06/VPCP/KSTT): dossiers received, resolved and pending, by level and field.

Periods are half-open: [period_from, period_to). Only what was known at `as_of` is used, so a closed
period's report never changes afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from .facts import LEVELS, FactRow
from .rules import CountingRules, report_cutoff
from .timing import Judge

LEVEL_LABELS = {"city": "Cấp tỉnh", "ward": "Cấp xã"}
ROMAN = ("I", "II", "III", "IV", "V")


class IdentityError(ValueError):
    """A Form 06 identity (col 3 = 4 + 5 + 6 = 7 + 11, …) does not hold."""


@dataclass(frozen=True, slots=True)
class Form06Counts:
    """Columns 3–13 of one row, plus the late dossiers that had an apology (ngoài biểu)."""

    received_total: int = 0  # 3  Tổng số
    received_online: int = 0  # 4  Trực tuyến
    received_in_person: int = 0  # 5  Trực tiếp, dịch vụ bưu chính
    carried_over: int = 0  # 6  Từ kỳ trước
    resolved_total: int = 0  # 7  Đã giải quyết: tổng số
    resolved_early: int = 0  # 8  Trước hạn
    resolved_on_time: int = 0  # 9  Đúng hạn
    resolved_late: int = 0  # 10 Quá hạn
    pending_total: int = 0  # 11 Đang giải quyết: tổng số
    pending_within: int = 0  # 12 Trong hạn
    pending_overdue: int = 0  # 13 Quá hạn
    late_with_apology: int = 0  # of col 10: those with an apology letter and a new date

    def columns(self) -> tuple[int, ...]:
        """Columns 3..13 in the form's order."""
        return tuple(getattr(self, f.name) for f in fields(self))[:11]

    def __add__(self, other: Form06Counts) -> Form06Counts:
        return Form06Counts(*(a + b for a, b in zip(_values(self), _values(other), strict=True)))

    def identity_errors(self, split_includes_carried_over: bool = False) -> list[str]:
        c = (0, 0, 0, *self.columns())  # index = column number
        received = c[4] + c[5] if split_includes_carried_over else c[4] + c[5] + c[6]
        checks = [("3 = 4+5" if split_includes_carried_over else "3 = 4+5+6", c[3], received),
                  ("3 = 7+11", c[3], c[7] + c[11]), ("7 = 8+9+10", c[7], c[8] + c[9] + c[10]),
                  ("11 = 12+13", c[11], c[12] + c[13])]
        errors = [f"{name}: {left} != {right}" for name, left, right in checks if left != right]
        if not 0 <= self.late_with_apology <= c[10]:
            errors.append(f"late_with_apology {self.late_with_apology} not within col 10 ({c[10]})")
        return errors


def _values(counts: Form06Counts) -> tuple[int, ...]:
    return tuple(getattr(counts, f.name) for f in fields(counts))


def _total(counts: Iterable[Form06Counts]) -> Form06Counts:
    total = Form06Counts()
    for item in counts:
        total = total + item
    return total


@dataclass(frozen=True, slots=True)
class Form06Row:
    field: str  # lĩnh vực
    counts: Form06Counts


@dataclass(frozen=True, slots=True)
class Form06Section:
    level: str  # ward | city
    rows: tuple[Form06Row, ...]
    counts: Form06Counts  # the level's subtotal

    @property
    def label(self) -> str:
        return LEVEL_LABELS.get(self.level, self.level)


@dataclass(frozen=True, slots=True)
class Form06Line:
    """One printed line: level heading, field row, or the grand total."""

    kind: str  # section | row | total
    stt: str  # số thứ tự
    label: str
    counts: Form06Counts


@dataclass(frozen=True, slots=True)
class Form06:
    period_from: datetime
    period_to: datetime
    as_of: datetime | None
    cutoff: datetime  # the moment looked at: min(period_to, as_of)
    agencies: frozenset[str]
    rules: CountingRules
    sections: tuple[Form06Section, ...]
    total: Form06Counts

    def lines(self) -> Iterator[Form06Line]:
        for number, section in enumerate(self.sections):
            yield Form06Line("section", _roman(number), section.label, section.counts)
            for index, row in enumerate(section.rows, start=1):
                yield Form06Line("row", str(index), row.field, row.counts)
        yield Form06Line("total", "", "Tổng cộng", self.total)

    def check_identities(self) -> None:
        """Raise IdentityError if any row, subtotal or the total breaks an identity or does not add up."""
        errors = [f"{line.kind} {line.label!r}: {error}" for line in self.lines()
                  for error in line.counts.identity_errors(self.rules.channel_split_includes_carried_over)]
        for section in self.sections:
            if _total(row.counts for row in section.rows) != section.counts:
                errors.append(f"section {section.label!r}: rows do not add up to the subtotal")
        if _total(section.counts for section in self.sections) != self.total:
            errors.append("sections do not add up to the total")
        if errors:
            raise IdentityError("; ".join(errors))


def _roman(number: int) -> str:
    return ROMAN[number] if number < len(ROMAN) else str(number + 1)


# Counter slots while counting (same order as Form06Counts).
_C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13, _APOLOGY = range(12)
_RESOLVED_SLOT = {"early": _C8, "on_time": _C9, "late": _C10}


def form06(facts: Iterable[FactRow], agencies: set[str], period_from: datetime, period_to: datetime,
           as_of: datetime | None = None, rules: CountingRules = CountingRules()) -> Form06:
    """Compute Form 06 for the dossiers of `agencies` (the agency and its sub-agencies) in one pass."""
    cutoff = report_cutoff(period_from, period_to, as_of)
    counter = _Counter(rules, period_from, cutoff)
    for fact in rules.select(facts, agencies):
        counter.add(fact)
    return form06_from_groups(counter.groups, agencies, period_from, period_to, as_of, rules)


def form06_from_groups(groups: Mapping[tuple[str, str], Sequence[int]], agencies: set[str] | frozenset[str],
                       period_from: datetime, period_to: datetime, as_of: datetime | None = None,
                       rules: CountingRules = CountingRules()) -> Form06:
    """Assemble the form from counts per (level, field): cols 3..13 then late with apology (12 values),
    e.g. counted by a database; groups whose counts are all zero are left out, as `form06` never has them."""
    cutoff = report_cutoff(period_from, period_to, as_of)
    kept = {key: list(slots) for key, slots in groups.items() if any(slots)}
    sections = tuple(_section(level, kept) for level in _levels(kept))
    return Form06(period_from, period_to, as_of, cutoff, frozenset(agencies), rules, sections,
                  _total(section.counts for section in sections))


class _Counter:
    __slots__ = ("_from", "_judge", "_split_all", "cutoff", "groups")

    def __init__(self, rules: CountingRules, period_from: datetime, cutoff: datetime) -> None:
        self._judge = Judge(rules)
        self._from = period_from
        self._split_all = rules.channel_split_includes_carried_over
        self.cutoff = cutoff
        self.groups: dict[tuple[str, str], list[int]] = {}

    def add(self, fact: FactRow) -> None:
        received, resolved = fact.received_at, fact.resolved_at
        if received >= self.cutoff:
            return  # received after the period, or not yet known at as_of
        carried = received < self._from
        if carried and resolved is not None and resolved < self._from:
            return  # settled before the period began
        slots = self.groups.get((fact.level, fact.field))
        if slots is None:
            slots = self.groups[(fact.level, fact.field)] = [0] * 12
        slots[_C3] += 1
        if carried:
            slots[_C6] += 1
        if not carried or self._split_all:
            slots[_C4 if fact.channel == "online" else _C5] += 1
        if resolved is not None and resolved < self.cutoff:
            self._resolved(fact, resolved, slots)
        else:
            slots[_C11] += 1
            slots[_C13 if self._judge.overdue_at(fact, self.cutoff) else _C12] += 1

    def _resolved(self, fact: FactRow, resolved: datetime, slots: list[int]) -> None:
        slots[_C7] += 1
        timeliness = self._judge.resolution(fact, resolved, self.cutoff)
        slots[_RESOLVED_SLOT[timeliness]] += 1
        if timeliness == "late" and fact.extended_appointment_at is not None:
            slots[_APOLOGY] += 1


def _levels(groups: dict[tuple[str, str], list[int]]) -> list[str]:
    present = {level for level, _ in groups}
    return [level for level in LEVELS if level in present] + sorted(present - set(LEVELS))


def _section(level: str, groups: dict[tuple[str, str], list[int]]) -> Form06Section:
    rows = tuple(Form06Row(field, Form06Counts(*slots))
                 for (lvl, field), slots in sorted(groups.items()) if lvl == level)
    return Form06Section(level, rows, _total(row.counts for row in rows))
