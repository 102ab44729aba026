"""Events owned by notifications on `onestop.notifications.v1`: what became of each notice."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from libs.contracts import topics
from libs.contracts.base import Event


class NoticeEvent(Event):
    topic: ClassVar[str] = topics.NOTIFICATIONS
    source: ClassVar[str] = "/onestop/notifications"

    notice_id: str
    kind: str  # received | refused | supplement_requested | … (the notice kind)
    channel: str  # sms | email
    at: datetime
    attempts: int


class NoticeDelivered(NoticeEvent):
    ce_type: ClassVar[str] = "vn.onestop.notice.delivered.v1"
    provider_id: str | None = None


class NoticeFailed(NoticeEvent):
    """A final failure: permanent (bad number, refused address) or technical (retry window over)."""

    ce_type: ClassVar[str] = "vn.onestop.notice.failed.v1"
    status: str  # permanent_failure | technical_failure | expired
    reason: str
