"""AsyncAPI 3 documents generated from the services' FastStream brokers (never written by hand).

`python -m onestop.asyncapi --write` (`make asyncapi`) regenerates docs/asyncapi/; a test fails when they are stale."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from faststream.specification import AsyncAPI

from libs.settings import REPO_ROOT
from onestop.registry import NAMES
from onestop.registry import service as registered

SERVICES = NAMES
OUT = REPO_ROOT / "docs" / "asyncapi"


def document(service: str) -> str:
    """The AsyncAPI JSON of one service, from the same wiring the process runs (no I/O)."""
    # The document names the default development broker whatever this shell points at.
    saved = os.environ.pop("ONESTOP_KAFKA_BOOTSTRAP", None)
    try:
        rt = registered(service).app.build()
    finally:
        if saved is not None:
            os.environ["ONESTOP_KAFKA_BOOTSTRAP"] = saved
    spec = AsyncAPI(
        rt.broker,
        title=f"OneStop {service}",
        version="1.0.0",
        description=f"Kafka interface of the OneStop {service} service (CloudEvents 1.0, binary mode).",
    )
    raw = json.loads(spec.to_specification().to_json())
    return json.dumps(raw, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def path(service: str) -> Path:
    return OUT / f"{service}.json"


def main(argv: list[str]) -> int:
    if "--write" not in argv:
        print("usage: python -m onestop.asyncapi --write", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        path(service).write_text(document(service), encoding="utf-8")
        print(f"wrote {path(service).relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
