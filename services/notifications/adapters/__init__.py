"""Delivery adapters (bộ gửi): SMTP e-mail, HTTP SMS gateway, console SMS, and the YAML config loader.

E-mail: `email.provider` smtp (default) or log (development: the message is logged, reported delivered).
Adapters never raise on delivery problems: they return a DeliveryResult classified as
delivered / temporary_failure / permanent_failure.
"""

from services.notifications.adapters.config import NotificationsConfig, load_config, load_policy
from services.notifications.adapters.email import (
    EmailSender,
    EmailSenderProtocol,
    LogEmail,
    SmtpSettings,
    build_email,
    make_email_sender,
)
from services.notifications.adapters.phone import mask_phone, normalise_mobile
from services.notifications.adapters.senders import Sendable, Senders
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
    "EmailSenderProtocol",
    "HttpSmsGateway",
    "HttpSmsSettings",
    "LogEmail",
    "NotificationsConfig",
    "Sendable",
    "Senders",
    "SmsSender",
    "SmsSettings",
    "SmtpSettings",
    "build_email",
    "load_config",
    "load_policy",
    "make_email_sender",
    "make_sms_sender",
    "mask_phone",
    "normalise_mobile",
]
