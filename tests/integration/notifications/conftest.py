"""Real local delivery endpoints for the notifications integration tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # until pytest is configured with pythonpath = ["."]
    sys.path.insert(0, str(ROOT))

from tests.support.sms_gateway import SmsGatewayServer  # noqa: E402
from tests.support.smtp_server import SmtpTestServer  # noqa: E402


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def sms_gateway() -> Iterator[SmsGatewayServer]:
    with SmsGatewayServer(token="s3cret", hang_seconds=10) as gateway:
        yield gateway
