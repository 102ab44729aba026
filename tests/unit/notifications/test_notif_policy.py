from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.notifications.adapters.config import load_config, parse_config
from services.notifications.domain import Channel, NoticeKind, NotificationPolicy

DEPLOY_CONFIG = Path(__file__).resolve().parents[3] / "deploy" / "config" / "notifications.yaml"


def test_defaults_everything_on_except_transferred() -> None:
    policy = NotificationPolicy()
    for kind in NoticeKind:
        for channel in Channel:
            assert policy.enabled(kind, channel) is (kind is not NoticeKind.TRANSFERRED)


def test_kind_switch_off_and_on_per_channel() -> None:
    text = """
policy:
  kinds:
    received: {sms: off, email: on}
    transferred: {sms: true, email: false}
"""
    policy = parse_config(text, environ={}).policy
    assert not policy.enabled("received", "sms")
    assert policy.enabled("received", "email")
    assert policy.enabled("transferred", "sms")
    assert not policy.enabled("transferred", "email")
    assert policy.enabled("stopped", "sms")  # not mentioned: default


def test_channel_master_switch_wins() -> None:
    policy = NotificationPolicy.from_mapping(
        {"channels": {"sms": False}, "kinds": {"received": {"sms": True, "email": True}}}
    )
    assert not policy.enabled(NoticeKind.RECEIVED, Channel.SMS)
    assert policy.enabled(NoticeKind.RECEIVED, Channel.EMAIL)


@pytest.mark.parametrize(
    "bad",
    [
        {"kinds": {"recieved": {"sms": True}}},  # typo in a kind
        {"kinds": {"received": {"zalo": True}}},  # unknown channel
        {"chanels": {"sms": True}},
    ],
)
def test_typos_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        NotificationPolicy.from_mapping(bad)


def test_unknown_kind_or_channel_in_query_raises() -> None:
    with pytest.raises(ValueError):
        NotificationPolicy().enabled("birthday", "sms")
    with pytest.raises(ValueError):
        NotificationPolicy().enabled("received", "zalo")


def test_deploy_config_loads() -> None:
    config = load_config(DEPLOY_CONFIG, environ={"ONESTOP_NOTIFICATIONS_SMS_TOKEN": "t0k"})
    assert not config.policy.enabled("transferred", "sms")
    assert not config.policy.enabled("transferred", "email")
    assert all(config.policy.enabled(k, c) for k in NoticeKind if k != "transferred" for c in Channel)
    assert config.retry.window_seconds == 4 * 3600
    assert config.sms.http is not None and config.sms.http.auth_token is not None
    assert config.sms.http.auth_token.get_secret_value() == "t0k"


def test_http_sms_provider_needs_its_section() -> None:
    with pytest.raises(ValidationError):
        parse_config("sms: {provider: http}", environ={})
