"""The events notifications publishes about a notice: notice.delivered / notice.failed once it is final."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from libs.contracts.notifications import NoticeDelivered, NoticeEvent, NoticeFailed
from services.notifications.domain.lifecycle import NoticeProgress, NoticeStatus


class NoticeFacts(Protocol):
    """What an outcome event tells of a notice (a stored row or one in memory)."""

    @property
    def id(self) -> UUID: ...
    @property
    def dossier_id(self) -> UUID: ...
    @property
    def code(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def channel(self) -> str: ...


def outcome_event(row: NoticeFacts, progress: NoticeProgress, at: datetime) -> NoticeEvent | None:
    """notice.delivered / notice.failed for a final status; None while the notice may still go out."""
    common: dict[str, Any] = {
        "dossier_id": row.dossier_id, "code": row.code, "notice_id": str(row.id), "kind": row.kind,
        "channel": row.channel, "at": at, "attempts": progress.attempts,
    }
    if progress.status is NoticeStatus.DELIVERED:
        return NoticeDelivered(**common, provider_id=progress.provider_id)
    if progress.status in (NoticeStatus.PERMANENT_FAILURE, NoticeStatus.TECHNICAL_FAILURE, NoticeStatus.EXPIRED):
        return NoticeFailed(**common, status=progress.status.value, reason=progress.reason)
    return None
