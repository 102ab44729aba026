"""Notice policy (cấu hình bật/tắt thông báo): which kinds go out on which channel."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.notifications.domain.kinds import Channel, NoticeKind


class ChannelSwitches(BaseModel):
    """On/off per channel. Unknown channel names are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sms: bool = True
    email: bool = True

    def is_on(self, channel: Channel) -> bool:
        return bool(getattr(self, Channel(channel).value))


OFF = ChannelSwitches(sms=False, email=False)
ON = ChannelSwitches()

# Defaults for kinds the configuration does not mention: everything on except `transferred`.
DEFAULT_KIND_SWITCHES: dict[NoticeKind, ChannelSwitches] = {
    kind: (OFF if kind is NoticeKind.TRANSFERRED else ON) for kind in NoticeKind
}


class NotificationPolicy(BaseModel):
    """Master switch per channel, then a switch per kind and channel; both must be on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: ChannelSwitches = ON
    kinds: dict[NoticeKind, ChannelSwitches] = Field(default_factory=dict)

    def enabled(self, kind: NoticeKind | str, channel: Channel | str) -> bool:
        kind, channel = NoticeKind(kind), Channel(channel)
        switches = self.kinds.get(kind, DEFAULT_KIND_SWITCHES[kind])
        return self.channels.is_on(channel) and switches.is_on(channel)

    @classmethod
    def from_mapping(cls, data: dict[str, Any] | None) -> NotificationPolicy:
        """Build from the `policy:` section of notifications.yaml (already parsed)."""
        return cls.model_validate(data or {})
