"""Notifications: SMS and e-mail notices to citizens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from libs.contracts import topics
from libs.runtime import Runtime, build_runtime, create_http_app
from services.notifications import api, handlers
from services.notifications.adapters import NotificationsConfig
from services.notifications.delivery import Delivery, DeliveryOptions, Senders
from services.notifications.metrics import NoticeMetrics
from services.notifications.service import NoticeBook
from services.notifications.settings import NotificationsSettings
from services.notifications.store import metadata

NAME = "notifications"
Settings = NotificationsSettings


@dataclass
class Notifications:
    """What the HTTP routes need besides the runtime."""

    rt: Runtime
    config: NotificationsConfig
    delivery: Delivery


def build_service() -> Notifications:
    settings = Settings()
    rt = build_runtime(
        NAME, settings, metadata, Path(__file__).parent / "migrations",
        produces=topics.NOTIFICATIONS, consumes=[topics.INTAKE, topics.PROCESSING],
    )
    assert rt.outbox is not None
    config = settings.notifications_config(rt.common)
    metrics = NoticeMetrics(rt.registry)
    handlers.register(rt, NoticeBook(config, rt.outbox, metrics), settings.group_id)
    options = DeliveryOptions(
        batch_size=settings.batch_size, concurrency=settings.concurrency, poll_seconds=settings.poll_seconds,
        sending_timeout_seconds=settings.sending_timeout_seconds,
    )
    delivery = Delivery(rt.sessions, rt.outbox, rt.clock, config, Senders.from_config(config), metrics, options,
                        wake_relay=rt.wake_relay)
    if settings.delivery_enabled:
        rt.loops.append(delivery.run)
    return Notifications(rt, config, delivery)


def build() -> Runtime:
    return build_service().rt


def create_app() -> FastAPI:
    service = build_service()
    app = create_http_app(service.rt, [api.router()], "OneStop notifications", "SMS and e-mail notices.")
    app.state.notifications = service
    return app
