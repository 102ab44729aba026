"""E-mail over SMTP (gửi thư điện tử) with aiosmtplib: multipart/alternative, deterministic Message-ID."""

from __future__ import annotations

import email.policy
import logging
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal, NamedTuple, Protocol

import aiosmtplib
from pydantic import BaseModel, ConfigDict, PositiveFloat, SecretStr, field_validator, model_validator

from services.notifications.adapters.mime import from_header, quoted_printable, unstructured_header
from services.notifications.domain.context import without_breaks
from services.notifications.domain.delivery import DeliveryResult, delivered, permanent, temporary
from services.notifications.domain.keys import DEFAULT_MESSAGE_ID_DOMAIN, message_id
from services.notifications.domain.rendering import RenderedNotice

log = logging.getLogger(__name__)
IDEMPOTENCY_HEADER = "X-OneStop-Idempotency-Key"
# One bare address (addr-spec): no whitespace or control character (CR, LF…), none of RFC 5322's specials
# (a display name, a comment, a group, a list of recipients), exactly one @ and a dot in the domain.
# Non-ASCII letters stay allowed (SMTPUTF8).
_NOT_IN_ADDRESS = r'\s\x00-\x1f\x7f-\x9f@<>()\[\],;:"\\'
_ADDRESS = re.compile(rf"[^{_NOT_IN_ADDRESS}]+@[^{_NOT_IN_ADDRESS}]+\.[^{_NOT_IN_ADDRESS}.]+")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def is_address(value: str) -> bool:
    """Whether the value is one bare e-mail address that can go into a To header and RCPT TO as it is."""
    return _ADDRESS.fullmatch(value) is not None


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

    @model_validator(mode="after")
    def _one_kind_of_tls(self) -> SmtpSettings:
        if self.starttls and self.use_tls:
            raise ValueError("email.starttls (port 587) and email.use_tls (port 465) exclude each other")
        return self

    @field_validator("from_address")
    @classmethod
    def _one_address(cls, value: str) -> str:
        if not is_address(value):
            raise ValueError("from_address must be one bare e-mail address (no name, no line break)")
        return value

    @field_validator("from_name")
    @classmethod
    def _one_line_name(cls, value: str | None) -> str | None:
        if value is not None and without_breaks(value) != value:
            raise ValueError("from_name must be one line without control characters")
        return value

    @field_validator("message_id_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if not _DOMAIN.fullmatch(value):
            raise ValueError("message_id_domain must be a domain name (letters, digits, dots, hyphens)")
        return value


class _Mail(NamedTuple):
    headers: list[tuple[str, str]]  # raw values, folded with CRLF + space
    boundary: str
    parts: list[tuple[str, str]]  # (Content-Type, quoted-printable payload, LF line ends, ending with one)


def _compose(notice: RenderedNotice, to: str, key: str, settings: SmtpSettings) -> _Mail:
    if notice.subject is None or notice.html is None:
        raise ValueError("an e-mail needs a notice rendered for the email channel")
    if not is_address(to):  # the senders refuse it first; this holds for any caller
        raise ValueError("not one bare e-mail address: refused before it reaches a header")
    mid = message_id(key, settings.message_id_domain)
    boundary = f"=_{mid[1:33]}"  # '=_' never occurs in quoted-printable text: no body line can collide
    headers = [
        ("From", from_header(settings.from_name, settings.from_address)),
        ("To", to),  # ASCII (checked by the callers); a non-ASCII address is stored parsed by build_email
        ("Subject", unstructured_header("Subject", notice.subject)),
        ("Date", format_datetime(datetime.now(UTC))),
        ("Message-ID", unstructured_header("Message-ID", mid)),
        (IDEMPOTENCY_HEADER, unstructured_header(IDEMPOTENCY_HEADER, key)),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative;\r\n boundary="{boundary}"'),
    ]
    parts = [('text/plain; charset="utf-8"', quoted_printable(notice.text)),
             ('text/html; charset="utf-8"', quoted_printable(notice.html))]
    for name, value in headers:
        _check_header(name, value)
    return _Mail(headers, boundary, parts)


def _check_header(name: str, value: str) -> None:
    """The last guard against header injection: a raw value may break a line only to fold it (CRLF + space);
    any other CR or LF would start a header of its own."""
    unfolded = value.replace("\r\n ", " ")
    if "\r" in unfolded or "\n" in unfolded:
        raise ValueError(f"the {name} header would carry a line break")


_QP = "quoted-printable"  # 7-bit safe for any MTA


def build_email(notice: RenderedNotice, to: str, key: str, settings: SmtpSettings) -> EmailMessage:
    """multipart/alternative of text/plain + text/html, UTF-8, quoted-printable; Message-ID derived from the
    idempotency key. Headers are stored raw (set_raw: no header parsing)."""
    mail = _compose(notice, to, key, settings)
    msg = EmailMessage(policy=email.policy.default)
    for name, value in mail.headers:
        if name == "To" and not value.isascii():  # internationalised address (SMTPUTF8): as the stdlib does it
            msg[name] = value
        else:
            msg.set_raw(name, value)
    for content_type, payload in mail.parts:
        part = EmailMessage(policy=email.policy.default)
        part.set_raw("Content-Type", content_type)
        part.set_raw("Content-Transfer-Encoding", _QP)
        part.set_payload(payload)
        msg.attach(part)
    return msg


def email_bytes(notice: RenderedNotice, to: str, key: str, settings: SmtpSettings) -> bytes:
    """The message build_email makes, in its wire form (CRLF, 7-bit), without the stdlib generator (which
    parses every Content-Type and Content-Transfer-Encoding header again). The address must be ASCII."""
    mail = _compose(notice, to, key, settings)  # refuses a hostile address first
    if not to.isascii():
        raise ValueError("email_bytes needs an ASCII address; build_email handles internationalised ones")
    out = [f"{name}: {value}\r\n" for name, value in mail.headers]
    for content_type, payload in mail.parts:
        out.append(f"\r\n--{mail.boundary}\r\nContent-Type: {content_type}\r\n"
                   f"Content-Transfer-Encoding: {_QP}\r\n\r\n" + payload.replace("\n", "\r\n"))
    out.append(f"\r\n--{mail.boundary}--\r\n")
    return "".join(out).encode("ascii")


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
        to = to.strip()
        if not is_address(to):
            return permanent("invalid e-mail address")
        # non-ASCII address: the stdlib message, so aiosmtplib negotiates SMTPUTF8 as before
        s = self.settings
        msg = email_bytes(notice, to, key, s) if to.isascii() else build_email(notice, to, key, s)
        try:
            reply = await self._submit(msg, to)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return classify_smtp_error(exc)
        return delivered(reply, provider_id=message_id(key, self.settings.message_id_domain))

    async def _submit(self, msg: bytes | EmailMessage, to: str) -> str:
        s = self.settings
        _refusals, reply = await aiosmtplib.send(
            msg,
            sender=s.from_address,
            recipients=[to],
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
        to = to.strip()
        if not is_address(to):
            return permanent("invalid e-mail address")
        if len(self.sent) < 100:  # for tests; bounded so a long-running dev process does not grow
            self.sent.append(build_email(notice, to, key, self.settings))
        elif to.isascii():  # built as EmailSender would, without the stdlib message nobody keeps
            email_bytes(notice, to, key, self.settings)
        else:
            build_email(notice, to, key, self.settings)
        mid = message_id(key, self.settings.message_id_domain)  # as in the message, without parsing it back
        if log.isEnabledFor(logging.INFO):
            log.info("e-mail to %s (%s): %s", _mask_address(to), mid, notice.subject)
        return delivered("logged", provider_id=mid)


def make_email_sender(settings: SmtpSettings) -> EmailSenderProtocol:
    return LogEmail(settings) if settings.provider == "log" else EmailSender(settings)
