"""Notifications: SMS and e-mail notices to citizens. The wiring: what each part needs is passed to it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from libs.contracts import topics
from libs.runtime import Runtime, build_runtime, create_http_app
from services.notifications import api
from services.notifications.adapters import NotificationsConfig, Senders
from services.notifications.delivery import Delivery, DeliveryOptions
from services.notifications.handlers import CONSUMED, handled_events, notice_handler
from services.notifications.metrics import NoticeMetrics
from services.notifications.notice_log import NoticeLog
from services.notifications.notices import NoticeBook
from services.notifications.settings import NotificationsSettings
from services.notifications.store import INBOX, OUTBOX

NAME = "notifications"
Settings = NotificationsSettings


@dataclass
class Notifications:
    """What the HTTP routes need besides the runtime."""

    rt: Runtime
    config: NotificationsConfig
    delivery: Delivery
    log: NoticeLog


def build_service() -> Notifications:
    settings = Settings()
    rt = build_runtime(NAME, settings, Path(__file__).parent / "migrations")
    config = settings.notifications_config(rt.common)
    metrics = NoticeMetrics(rt.registry)
    outbox = rt.producing(topics.NOTIFICATIONS, OUTBOX)
    # The consumer group is rt.group_id (onestop-notifications unless ONESTOP_NOTIFICATIONS_CONSUMER_GROUP).
    rt.consuming(CONSUMED, INBOX, handled_events(), notice_handler(NoticeBook(config), outbox.table, metrics, rt.clock),
                 after_commit=outbox.wake)
    options = DeliveryOptions(
        batch_size=settings.batch_size, concurrency=settings.concurrency, poll_seconds=settings.poll_seconds,
        sending_timeout_seconds=settings.sending_timeout_seconds,
    )
    delivery = Delivery(rt.sessions, outbox.table, rt.clock, config, Senders.from_config(config), metrics, options,
                        wake_relay=outbox.wake)
    if settings.delivery_enabled:
        rt.loops.append(delivery.run)
    return Notifications(rt, config, delivery, NoticeLog(rt.sessions, delivery))


def build() -> Runtime:
    return build_service().rt


def create_app() -> FastAPI:
    service = build_service()
    app = create_http_app(service.rt, [api.router()], "OneStop notifications", "SMS and e-mail notices.")
    app.state.notifications = service
    return app
