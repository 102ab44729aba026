"""The one entrypoint shape of every service: settings → logging → app → uvicorn."""

from __future__ import annotations

import importlib

import uvicorn

from libs.observability import setup_logging
from libs.settings import CommonSettings


def serve(module: str, service: str) -> None:
    common = CommonSettings()
    setup_logging(service, common.log_level)
    settings = importlib.import_module(module).Settings()
    uvicorn.run(
        f"{module}:create_app", factory=True, host=settings.host, port=settings.port,
        log_config=None, access_log=False, loop="uvloop", http="httptools",
    )
