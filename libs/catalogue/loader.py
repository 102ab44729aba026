"""Load the catalogue from YAML (the only I/O in this package).

Each file is a mapping with one list (`agencies:` or `procedures:`); other top-level keys must start with
`x-` and are ignored (a place for YAML anchors such as shared step plans).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from libs.catalogue.agency import Agency
from libs.catalogue.catalogue import Catalogue
from libs.catalogue.errors import CatalogueError, Problem
from libs.catalogue.procedure import Procedure

REPO_ROOT = Path(__file__).parents[2]
DEFAULT_AGENCIES = REPO_ROOT / "deploy" / "config" / "agencies.yaml"
DEFAULT_PROCEDURES = REPO_ROOT / "deploy" / "config" / "procedures.yaml"

M = TypeVar("M", bound=BaseModel)
_NAMED_FIELD = re.compile(r"(?P<field>[a-z_]+): (?P<reason>.*)", re.DOTALL)


def load_catalogue(
    agencies_path: str | Path | None = None, procedures_path: str | Path | None = None
) -> Catalogue:
    """Read, validate and cross-check both files; raise CatalogueError naming file, entry and field."""
    paths = {
        "agencies": Path(agencies_path) if agencies_path else DEFAULT_AGENCIES,
        "procedures": Path(procedures_path) if procedures_path else DEFAULT_PROCEDURES,
    }
    agencies = _load_entries(paths["agencies"], "agencies", Agency, "eid", "agency")
    procedures = _load_entries(paths["procedures"], "procedures", Procedure, "code", "procedure")
    try:
        return Catalogue(agencies, procedures)
    except CatalogueError as exc:
        raise exc.in_file(str(paths.get(exc.source or "", exc.source))) from None


def _load_entries(path: Path, key: str, model: type[M], id_field: str, noun: str) -> list[M]:
    entries = _read_list(path, key)
    models: list[M] = []
    problems: list[Problem] = []
    for index, raw in enumerate(entries, start=1):
        entry = _entry_label(noun, raw, id_field, index)
        if not isinstance(raw, dict):
            problems.append(Problem(entry, None, "expected a mapping of fields"))
            continue
        try:
            models.append(model.model_validate(raw))
        except ValidationError as exc:
            problems.extend(_problems(exc, entry))
    if problems:
        raise CatalogueError(problems, str(path))
    return models


def _read_list(path: Path, key: str) -> list[Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError.single("file not found", source=str(path)) from None
    except yaml.YAMLError as exc:
        raise CatalogueError.single(_yaml_reason(exc), source=str(path)) from None
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise CatalogueError.single(f"expected a top-level '{key}:' list", source=str(path))
    unknown = [k for k in data if k != key and not str(k).startswith("x-")]
    if unknown:
        reason = f"unknown top-level keys {unknown} (only '{key}' and 'x-…' keys are allowed)"
        raise CatalogueError.single(reason, source=str(path))
    return list(data[key])


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"not valid YAML{where}: {problem}"


def _entry_label(noun: str, raw: Any, id_field: str, index: int) -> str:
    ident = raw.get(id_field) if isinstance(raw, dict) else None
    return f"{noun} {ident!r} (entry {index})" if ident is not None else f"{noun} (entry {index})"


def _problems(exc: ValidationError, entry: str) -> list[Problem]:
    errors = exc.errors(include_url=False)
    deeper = {error["loc"][:-1] for error in errors if error["loc"]}
    return [
        _problem(entry, error)
        for error in errors
        if not (
            error["type"] == "too_short" and any(loc[: len(error["loc"])] == error["loc"] for loc in deeper)
        )
    ]


def _problem(entry: str, error: Any) -> Problem:
    """Model-level checks cannot set a location, so they start their message with `field: `."""
    loc, reason = tuple(error["loc"]), _reason(error)
    named = _NAMED_FIELD.match(reason) if error["type"] == "value_error" else None
    if named:
        loc, reason = (*loc, named["field"]), named["reason"]
    return Problem(entry, _field_path(loc) or None, reason)


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _reason(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    scalar = isinstance(value, str | int | float | bool)
    if error["type"] != "missing" and scalar and repr(value) not in message:
        message += f" (got {value!r})"
    return message
