"""Idempotency key (khóa chống gửi trùng) and the e-mail Message-ID derived from it."""

from __future__ import annotations

import hashlib

from services.notifications.domain.kinds import Channel

DEFAULT_MESSAGE_ID_DOMAIN = "onestop.local"


def notice_key(dossier_id: str, event_id: str, channel: Channel | str) -> str:
    """One notice per (dossier, event, channel): a retry after a crash reuses the same key."""
    return f"{dossier_id}:{event_id}:{Channel(channel).value}"


def message_id(key: str, domain: str = DEFAULT_MESSAGE_ID_DOMAIN) -> str:
    """Deterministic RFC 5322 Message-ID, so a repeated send carries the same id."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain}>"
