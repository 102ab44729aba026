"""Notifications domain (miền thông báo): pure rules, no I/O.

Planning (imported from their modules): `facts.facts_of(event)` — what an event means for notices;
`planning.plan_batch` / `settle_batch` — the notices a consumer batch records, over the rows it read;
`outcomes.outcome_event` — notice.delivered / notice.failed; `records` — the rows as plain values.

What the use cases call from here:
- `NotificationPolicy.enabled(kind, channel)` — is this notice switched on?
- `render(kind, channel, ctx)` / `sample_context(kind)` — the text to send, or a preview.
- `notice_key(dossier_id, event_id, channel)`, `message_id(key, domain)` — idempotency.
- `is_stale(kind, dossier_state_now)` — expire instead of sending; `state_from_code(n)` — DVCQG codes.
- `start_attempt`, `record_result`, `expire`, `interrupted`, `manual_retry` — the notice lifecycle.
"""

from services.notifications.domain.context import (
    REQUIRED_FIELDS,
    VN_TZ,
    MissingContextError,
    NoticeContext,
    check_context,
    sample_context,
)
from services.notifications.domain.delivery import (
    DeliveryResult,
    DeliveryStatus,
    delivered,
    permanent,
    temporary,
)
from services.notifications.domain.gsm7 import gsm7_length, is_gsm7, sms_parts, to_gsm7_unaccented
from services.notifications.domain.keys import DEFAULT_MESSAGE_ID_DOMAIN, message_id, notice_key
from services.notifications.domain.kinds import Channel, NoticeKind
from services.notifications.domain.lifecycle import (
    ALLOWED,
    FINAL,
    IllegalTransitionError,
    NoticeProgress,
    NoticeStatus,
    can_transition,
    expire,
    interrupted,
    manual_retry,
    record_result,
    start_attempt,
    transition,
)
from services.notifications.domain.policy import ChannelSwitches, NotificationPolicy
from services.notifications.domain.rendering import TEMPLATES_DIR, RenderedNotice, render, vn_datetime
from services.notifications.domain.retry import RetryPolicy, next_retry_at, retry_delay
from services.notifications.domain.stale import STALE_WHEN, DossierState, is_stale, state_from_code

__all__ = [
    "ALLOWED",
    "DEFAULT_MESSAGE_ID_DOMAIN",
    "FINAL",
    "REQUIRED_FIELDS",
    "STALE_WHEN",
    "TEMPLATES_DIR",
    "VN_TZ",
    "Channel",
    "ChannelSwitches",
    "DeliveryResult",
    "DeliveryStatus",
    "DossierState",
    "IllegalTransitionError",
    "MissingContextError",
    "NoticeContext",
    "NoticeKind",
    "NoticeProgress",
    "NoticeStatus",
    "NotificationPolicy",
    "RenderedNotice",
    "RetryPolicy",
    "can_transition",
    "check_context",
    "delivered",
    "expire",
    "gsm7_length",
    "interrupted",
    "is_gsm7",
    "is_stale",
    "manual_retry",
    "message_id",
    "next_retry_at",
    "notice_key",
    "permanent",
    "record_result",
    "render",
    "retry_delay",
    "sample_context",
    "sms_parts",
    "start_attempt",
    "state_from_code",
    "temporary",
    "to_gsm7_unaccented",
    "transition",
    "vn_datetime",
]
