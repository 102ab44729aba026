"""The senders of the delivery loop: a notice rendered and handed to its channel's adapter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from services.notifications.adapters.config import NotificationsConfig
from services.notifications.adapters.email import EmailSenderProtocol, make_email_sender
from services.notifications.adapters.sms import SmsSender, make_sms_sender
from services.notifications.domain import Channel, DeliveryResult, permanent, render


class Sendable(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def context(self) -> dict[str, Any]: ...


@dataclass
class Senders:
    email: EmailSenderProtocol
    sms: SmsSender

    @classmethod
    def from_config(cls, config: NotificationsConfig) -> Senders:
        return cls(make_email_sender(config.email), make_sms_sender(config.sms))

    async def send(self, channel: str, to: str, row: Sendable) -> DeliveryResult:
        try:
            notice = render(row.kind, channel, row.context)
        except Exception as exc:  # bad stored context or a template bug: retrying will not help
            return permanent(f"cannot render the notice: {type(exc).__name__}: {exc}")
        if channel == Channel.EMAIL:
            return await self.email.send(to, notice, row.key)
        return await self.sms.send(to, notice.text, row.key)

    async def aclose(self) -> None:
        await self.sms.aclose()
