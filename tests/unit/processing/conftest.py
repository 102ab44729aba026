from __future__ import annotations

import pytest
from processing_support import calendar

from libs.calendar import WorkCalendar


@pytest.fixture(scope="session")
def cal() -> WorkCalendar:
    return calendar()
