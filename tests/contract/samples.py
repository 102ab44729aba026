"""Sample instances of every event model, built from the model's own JSON schema (no hand-kept list)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from libs.contracts import Event

_NOW = datetime(2026, 3, 16, 9, 30, tzinfo=UTC)


def _value(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    if "$ref" in schema:
        return _value(defs[schema["$ref"].split("/")[-1]], defs)
    if "anyOf" in schema:
        return _value(next(s for s in schema["anyOf"] if s.get("type") != "null"), defs)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    fmt = schema.get("format")
    if kind == "object":
        return {k: _value(v, defs) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [_value(schema["items"], defs)]
    if fmt == "uuid":
        return str(uuid.UUID(int=7))
    if fmt == "date-time":
        return _NOW.isoformat()
    if fmt == "date":
        return _NOW.date().isoformat()
    return {"string": "000.00.12.H55-260316-0001", "integer": 1, "number": 1.5, "boolean": True}.get(kind)


def sample_event(cls: type[Event]) -> Event:
    schema = cls.model_json_schema()
    data = _value(schema, schema.get("$defs", {}))
    return cls.model_validate(data)
