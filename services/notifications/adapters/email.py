"""E-mail over SMTP (gửi thư điện tử) with aiosmtplib: multipart/alternative, deterministic Message-ID."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal, Protocol

import aiosmtplib
from pydantic import BaseModel, ConfigDict, PositiveFloat, SecretStr

from services.notifications.domain.delivery import DeliveryResult, delivered, permanent, temporary
from services.notifications.domain.keys import DEFAULT_MESSAGE_ID_DOMAIN, message_id
from services.notifications.domain.rendering import RenderedNotice

log = logging.getLogger(__name__)
IDEMPOTENCY_HEADER = "X-OneStop-Idempotency-Key"
_ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


class SmtpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Literal["smtp", "log"] = "smtp"  # log: development only, the message is logged, not sent
    host: str = "localhost"
    port: int = 25
    starttls: bool = False  # upgrade with STARTTLS (port 587)
    use_tls: bool = False  # implicit TLS (port 465)
    username: str | None = None
    password: SecretStr | None = None
    from_address: str = "mot-cua@onestop.local"
    from_name: str | None = "Bộ phận Một cửa"
    timeout_seconds: PositiveFloat = 10
    message_id_domain: str = DEFAULT_MESSAGE_ID_DOMAIN


def _set_header(msg: EmailMessage, name: str, value: str, address: str | None = None) -> None:
    """Encode non-ASCII text ourselves (RFC 2047, folded by email.header.Header): the stdlib folder of
    Python 3.11 drops the space between folded encoded-words ("bổ sung,hoàn")."""
    if value.isascii():
        msg[name] = f"{value} <{address}>" if address else value
        return
    header = Header(value, "utf-8", header_name=name)
    if address:
        header.append(f"<{address}>", "us-ascii")
    msg.set_raw(name, header.encode())


def build_email(notice: RenderedNotice, to: str, key: str, settings: SmtpSettings) -> EmailMessage:
    """text/plain + text/html, UTF-8; Message-ID derived from the idempotency key."""
    if notice.subject is None or notice.html is None:
        raise ValueError("an e-mail needs a notice rendered for the email channel")
    msg = EmailMessage()
    if settings.from_name:
        _set_header(msg, "From", settings.from_name, settings.from_address)
    else:
        msg["From"] = settings.from_address
    msg["To"] = to
    _set_header(msg, "Subject", notice.subject)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id(key, settings.message_id_domain)
    msg[IDEMPOTENCY_HEADER] = key
    msg.set_content(notice.text, charset="utf-8", cte="quoted-printable")  # 7-bit safe for any MTA
    msg.add_alternative(notice.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


def _refused(exc: aiosmtplib.SMTPRecipientsRefused) -> DeliveryResult:
    reason = "; ".join(f"{r.code} {r.message}" for r in exc.recipients) or "recipients refused"
    if any(r.code >= 500 for r in exc.recipients):
        return permanent(f"recipient refused: {reason}")
    return temporary(f"recipient deferred: {reason}")


def classify_smtp_error(exc: Exception) -> DeliveryResult:
    """5xx → permanent; 4xx, timeouts, connection trouble, our own auth problem → temporary."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return _refused(exc)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return temporary(f"smtp authentication failed: {exc.code} {exc.message}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"smtp {exc.code} {exc.message}"
        return permanent(text) if 500 <= exc.code < 600 else temporary(text)
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return temporary("smtp timeout")
    return temporary(f"smtp connection problem: {type(exc).__name__}: {exc}")


class EmailSender:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, to: str, notice: RenderedNotice, key: str) -> DeliveryResult:
        if not _ADDRESS.fullmatch(to.strip()):
            return permanent("invalid e-mail address")
        msg = build_email(notice, to.strip(), key, self.settings)
        try:
            reply = await self._submit(msg)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return classify_smtp_error(exc)
        return delivered(reply, provider_id=message_id(key, self.settings.message_id_domain))

    async def _submit(self, msg: EmailMessage) -> str:
        s = self.settings
        _refusals, reply = await aiosmtplib.send(
            msg,
            sender=s.from_address,
            recipients=[str(msg["To"])],
            hostname=s.host,
            port=s.port,
            start_tls=s.starttls,
            use_tls=s.use_tls,
            username=s.username,
            password=s.password.get_secret_value() if s.password else None,
            timeout=s.timeout_seconds,
        )
        return reply


class EmailSenderProtocol(Protocol):
    async def send(self, to: str, notice: RenderedNotice, key: str) -> DeliveryResult: ...


def _mask_address(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


class LogEmail:
    """Development sender: builds the message as SMTP would, logs it (address masked), reports it delivered."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.sent: list[EmailMessage] = []

    async def send(self, to: str, notice: RenderedNotice, key: str) -> DeliveryResult:
        if not _ADDRESS.fullmatch(to.strip()):
            return permanent("invalid e-mail address")
        msg = build_email(notice, to.strip(), key, self.settings)
        mid = message_id(key, self.settings.message_id_domain)  # as in msg, without parsing the header back
        log.info("e-mail to %s (%s): %s", _mask_address(to.strip()), mid, notice.subject)
        if len(self.sent) < 100:  # for tests; bounded so a long-running dev process does not grow
            self.sent.append(msg)
        return delivered("logged", provider_id=mid)


def make_email_sender(settings: SmtpSettings) -> EmailSenderProtocol:
    return LogEmail(settings) if settings.provider == "log" else EmailSender(settings)
