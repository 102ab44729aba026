"""How intake opens certification: in development without the development CA it starts and answers 503; outside
development a missing key, the development CA or an unencrypted key stops the start."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from libs.auth import Officer
from libs.auth.fastapi import current_officer
from libs.calendar import load_calendar
from libs.clock import SystemClock
from libs.messaging import Outbox
from libs.runtime.runtime import UnsafeSettings
from services.intake.certification.api import UPLOAD_PATH, public_router, router
from services.intake.certification.domain import Original
from services.intake.certification.service import Act, Scan, SigningUnavailable, open_certification
from services.intake.certification.settings import CertificationSettings
from services.intake.store.tables import OUTBOX as OUTBOX_TABLE
from tests.unit.intake.certification.support import dev_ca, scanned_original, settings_for

CALENDAR = load_calendar()
WARD = "000.00.12.H55"
OFFICER = Officer("can-bo-1", "Trần Thị Hoa", frozenset({"desk_officer"}), WARD)


def missing(tmp_path: Path) -> CertificationSettings:
    return CertificationSettings(key_file=tmp_path / "none.key", cert_file=tmp_path / "none.pem",
                                 chain_files=[tmp_path / "root.pem"])


def unused_sessions() -> object:
    raise AssertionError("no database work may happen here")


class Relay:
    def wake(self) -> None:
        raise AssertionError("nothing is certified here, so nothing is staged")


OUTBOX = Outbox(OUTBOX_TABLE, Relay())  # type: ignore[arg-type]


async def test_development_without_a_key_starts_and_answers_503(tmp_path: Path) -> None:
    certification = open_certification(sessions=unused_sessions, calendar=CALENDAR,  # type: ignore[arg-type]
                                       clock=SystemClock(), environment="development", settings=missing(tmp_path),
                                       outbox=OUTBOX)
    with pytest.raises(SigningUnavailable, match=r"dev_ca\.py"):
        await certification.certify(Act([Scan(scanned_original(1), Original("Giấy khai sinh"))]), OFFICER)
    app = FastAPI()
    app.include_router(router(), prefix="/api/v1")
    app.include_router(public_router(), prefix="/api/v1")
    app.state.certification = certification
    app.dependency_overrides[current_officer] = lambda: OFFICER
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        answer = await client.post(UPLOAD_PATH, params={"document_type": "Giấy khai sinh"},
                                   content=scanned_original(1))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "60"


def test_outside_development_a_missing_key_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises((ValueError, OSError)):
        open_certification(sessions=unused_sessions, calendar=CALENDAR,  # type: ignore[arg-type]
                           clock=SystemClock(), environment="production", settings=missing(tmp_path), outbox=OUTBOX)


def test_outside_development_the_development_ca_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(UnsafeSettings, match="development CA"):
        open_certification(sessions=unused_sessions, calendar=CALENDAR,  # type: ignore[arg-type]
                           clock=SystemClock(), environment="production", settings=settings_for(dev_ca(tmp_path)),
                           outbox=OUTBOX)
