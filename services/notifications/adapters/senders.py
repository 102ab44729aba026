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
    # The look-up link as configured now: a notice planned (or retried) across a change of the address, e.g.
    # from development's http to the real https page, links to the page that exists. None: as planned.
    lookup_url: str | None = None

    @classmethod
    def from_config(cls, config: NotificationsConfig) -> Senders:
        return cls(make_email_sender(config.email), make_sms_sender(config.sms), config.lookup_url)

    async def send(self, channel: str, to: str, row: Sendable) -> DeliveryResult:
        context = row.context
        if self.lookup_url is not None and context.get("lookup_url") != self.lookup_url:
            context = {**context, "lookup_url": self.lookup_url}
        try:
            notice = render(row.kind, channel, context)
        except Exception as exc:  # bad stored context or a template bug: retrying will not help
            return permanent(f"cannot render the notice: {type(exc).__name__}: {exc}")
        if channel == Channel.EMAIL:
            return await self.email.send(to, notice, row.key)
        return await self.sms.send(to, notice.text, row.key)

    async def aclose(self) -> None:
        await self.sms.aclose()
