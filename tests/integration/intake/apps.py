"""Intake's real app, built in process for a test from its environment, with its database migrated."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from libs.db import upgrade
from libs.runtime import Runtime
from services.intake import app as intake_app


async def intake_app_with(env: dict[str, str]) -> FastAPI:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        app = intake_app.create_app()
    rt: Runtime = app.state.runtime
    await upgrade(rt.engine, rt.migrations)
    return app


async def dispose(app: FastAPI) -> None:
    rt: Runtime = app.state.runtime
    await rt.engine.dispose()
    rt.tracer_provider.shutdown()
