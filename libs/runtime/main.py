"""The one entrypoint shape of every service: settings → logging → app → uvicorn."""

from __future__ import annotations

import gc
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from libs.observability import setup_logging
from libs.settings import CommonSettings, ServiceSettings


def serve(service: str, settings: ServiceSettings, create_app: Callable[[], FastAPI]) -> None:
    common = CommonSettings()
    setup_logging(service, common.log_level)
    if problems := common.unsafe_outside_development():  # say so plainly, before any traceback
        raise SystemExit(f"{service} refuses to start in {common.environment}: " + "; ".join(problems))
    _calm_gc()
    uvicorn.run(
        create_app, factory=True, host=settings.host, port=settings.port,
        log_config=None, access_log=False, loop="uvloop", http="httptools",
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 and hide the real peer; the app decides whom to
        # believe (intake's look-up limit: ONESTOP_INTAKE_TRUSTED_PROXIES).
        proxy_headers=False,
    )


def _calm_gc() -> None:
    """Every event and request allocates thousands of short-lived objects; with CPython's default threshold
    (700) the cyclic collector runs hundreds of times a second, re-scanning the long-lived modules and
    catalogue each time. Move what is loaded so far out of its sight and collect the young less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
