"""Errors raised while loading or querying the catalogue."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the configuration: which entry, which field, why."""

    entry: str | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = [part for part in (self.entry, f"field {self.field}" if self.field else None) if part]
        return ": ".join([*where, self.reason])


class CatalogueError(ValueError):
    """Invalid catalogue configuration. `source` is a file path (or 'agencies' / 'procedures')."""

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        super().__init__(self._message())

    @classmethod
    def single(
        cls, reason: str, *, source: str | None = None, entry: str | None = None, field: str | None = None
    ) -> CatalogueError:
        return cls([Problem(entry, field, reason)], source)

    @property
    def entry(self) -> str | None:
        return self.problems[0].entry

    @property
    def field(self) -> str | None:
        return self.problems[0].field

    def in_file(self, path: str) -> CatalogueError:
        return type(self)(self.problems, path)

    def _message(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        return "\n".join(prefix + str(problem) for problem in self.problems)


class NotInCatalogueError(CatalogueError, LookupError):
    """An agency, procedure or version asked for does not exist (or is not in force that day)."""
