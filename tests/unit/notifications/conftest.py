"""Fixtures for the notifications unit tests: snapshot comparison (UPDATE_SNAPSHOTS=1 rewrites)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # until pytest is configured with pythonpath = ["."]
    sys.path.insert(0, str(ROOT))

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


@pytest.fixture
def assert_snapshot() -> Callable[[str, str], None]:
    def check(name: str, actual: str) -> None:
        path = SNAPSHOTS / name
        if os.environ.get("UPDATE_SNAPSHOTS") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(f"snapshot {name} missing; run with UPDATE_SNAPSHOTS=1 and review the file")
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"rendered {name} differs from its snapshot (UPDATE_SNAPSHOTS=1 rewrites)"

    return check
