"""Delivery adapters (bộ gửi): SMTP e-mail, HTTP SMS gateway, console SMS, and the YAML config loader.

Adapters never raise on delivery problems: they return a DeliveryResult classified as
delivered / temporary_failure / permanent_failure.
"""

from services.notifications.adapters.config import NotificationsConfig, load_config, load_policy
from services.notifications.adapters.email import EmailSender, SmtpSettings, build_email
from services.notifications.adapters.phone import mask_phone, normalise_mobile
from services.notifications.adapters.sms import (
    ConsoleSms,
    HttpSmsGateway,
    HttpSmsSettings,
    SmsSender,
    SmsSettings,
    make_sms_sender,
)

__all__ = [
    "ConsoleSms",
    "EmailSender",
    "HttpSmsGateway",
    "HttpSmsSettings",
    "NotificationsConfig",
    "SmsSender",
    "SmsSettings",
    "SmtpSettings",
    "build_email",
    "load_config",
    "load_policy",
    "make_sms_sender",
    "mask_phone",
    "normalise_mobile",
]
