"""Notifications: SMS and e-mail notices to citizens."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from libs.contracts import topics
from libs.runtime import Runtime, build_runtime, create_http_app
from services.notifications import api, handlers
from services.notifications.settings import NotificationsSettings
from services.notifications.store import metadata

NAME = "notifications"
Settings = NotificationsSettings


def build() -> Runtime:
    rt = build_runtime(
        NAME, Settings(), metadata, Path(__file__).parent / "migrations",
        produces=topics.NOTIFICATIONS, consumes=[topics.INTAKE, topics.PROCESSING],
    )
    handlers.register(rt)
    return rt


def create_app() -> FastAPI:
    return create_http_app(build(), [api.router()], "OneStop notifications", "SMS and e-mail notices.")
