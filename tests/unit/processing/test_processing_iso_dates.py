"""An officer's action takes a new appointment as ISO 8601 text only, never a number (issue 15)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.processing.actions import ExtendDeadline


def test_an_extension_to_time_zero_is_refused() -> None:
    with pytest.raises(ValidationError, match="ISO 8601"):
        ExtendDeadline.model_validate({"action": "extend-deadline", "reason": "chờ ý kiến", "new_due": 0})
