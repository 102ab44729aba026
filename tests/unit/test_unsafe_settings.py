"""A service outside development refuses settings fit only for development, with the reason (issue 15 §3);
the controlled clock's endpoint exists only in development and takes sane offsets only."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from pydantic import SecretStr

from libs.clock import ControlledClock
from libs.runtime.http import _clock_router
from libs.runtime.runtime import UnsafeSettings, build_runtime
from libs.settings import CommonSettings, ServiceSettings


def test_production_with_development_settings_lists_every_problem() -> None:
    problems = CommonSettings(environment="production", clock="controlled").unsafe_outside_development()
    named = ("ONESTOP_JWT_SECRET", "ONESTOP_JWKS_URL", "ONESTOP_CLOCK", "ONESTOP_DLQ_KEY",
             "ONESTOP_KAFKA_SECURITY_PROTOCOL")
    assert len(problems) == len(named)
    assert all(any(name in p for p in problems) for name in named), problems


def test_production_with_a_real_setup_and_development_with_anything_are_fine() -> None:
    real = CommonSettings(environment="production", jwt_secret="s3cr3t-from-the-vault",
                          jwks_url="https://id.example.vn/jwks", clock="system", kafka_security_protocol="SASL_SSL",
                          dlq_key=SecretStr(Fernet.generate_key().decode()))
    assert real.unsafe_outside_development() == []
    assert CommonSettings(clock="controlled").unsafe_outside_development() == []


def test_a_service_refuses_to_build_outside_development_with_the_reason(tmp_path: Path) -> None:
    common = CommonSettings(environment="production", run_dir=tmp_path)
    with pytest.raises(UnsafeSettings, match=r"intake refuses to start in production.*ONESTOP_JWT_SECRET"):
        build_runtime("intake", ServiceSettings(), tmp_path, common)


async def test_the_clock_endpoint_takes_only_sane_offsets_and_aware_times(tmp_path: Path) -> None:
    app = FastAPI()
    app.include_router(_clock_router(ControlledClock(tmp_path / "clock.json")))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.post("/admin/clock", json={"advance_seconds": 1e300})).status_code == 422
        assert (await client.post("/admin/clock", json={"set": "2026-06-10T10:00:00"})).status_code == 422
        assert (await client.post("/admin/clock", json={"set": 0})).status_code == 422
        ok = await client.post("/admin/clock", json={"set": "2026-06-10T10:00:00+07:00"})
        assert ok.status_code == 200 and ok.json()["now"].startswith("2026-06-10T")
