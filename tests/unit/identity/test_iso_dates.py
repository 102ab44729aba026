"""Only ISO 8601 text is a date or a time in a request: pydantic would read a number as Unix time (issue 15)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from libs.identity import IsoDate, IsoDateTime, IsoLocalDateTime

NUMBERS = [0, 1, 1781078400, 1.5, "0", "1781078400", "-1"]


@pytest.mark.parametrize("kind", [IsoDate, IsoDateTime, IsoLocalDateTime])
@pytest.mark.parametrize("value", NUMBERS)
def test_a_number_is_no_date(kind: object, value: object) -> None:
    with pytest.raises(ValidationError, match="ISO 8601"):
        TypeAdapter(kind).validate_python(value)


def test_iso_text_is_read_as_before() -> None:
    assert TypeAdapter(IsoDate).validate_python("2026-06-10") == date(2026, 6, 10)
    assert TypeAdapter(IsoDateTime).validate_python("2026-06-10T08:00:00+07:00") == datetime(2026, 6, 10, 1, tzinfo=UTC)
    assert TypeAdapter(IsoLocalDateTime).validate_python("2026-06-10T08:00:00").tzinfo is None
    with pytest.raises(ValidationError):  # an action's new appointment still needs its offset
        TypeAdapter(IsoDateTime).validate_python("2026-06-10T08:00:00")
