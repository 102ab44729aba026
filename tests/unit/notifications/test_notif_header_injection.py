"""CR/LF or header text in names, e-mail addresses and subjects never reaches an e-mail header: an address is
refused at the boundary, a name or subject is made one line, and the message bytes carry only our headers."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from email.policy import default as default_policy

import pytest
from pydantic import ValidationError

from services.notifications.adapters.email import (
    IDEMPOTENCY_HEADER,
    LogEmail,
    SmtpSettings,
    build_email,
    email_bytes,
    is_address,
)
from services.notifications.adapters.mime import from_header, unstructured_header
from services.notifications.domain import DeliveryStatus, NoticeKind, RenderedNotice, notice_key, render, sample_context
from services.notifications.domain.context import single_line

KEY = notice_key("5b0e3c1e-5a43-4f3e-9f7a-0c7d2c6f1a10", "0f0b8c52-7f3a-4c55-a0a4-9a6b3f0d2e11", "email")
TO = "cong.dan@example.vn"
OUR_HEADERS = ["From", "To", "Subject", "Date", "Message-ID", IDEMPOTENCY_HEADER, "MIME-Version", "Content-Type"]
HOSTILE_NAME = "Lan\r\nBcc: x@evil.vn"
BREAKS = ["\r\n", "\n", "\r", "\x00", "\x0b", "\x85", "\u2028", "\r\n\r\n"]


def parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=default_policy)
    assert isinstance(msg, EmailMessage)
    return msg


def header_names(raw: bytes) -> list[str]:
    return [name for name, _ in parse(raw).raw_items()]


def hostile_notice(kind: NoticeKind = NoticeKind.RECEIVED, brk: str = "\r\n") -> RenderedNotice:
    """A notice whose every citizen- or officer-given text tries to add a header."""
    ctx = sample_context(kind).model_copy(update={
        "dossier_code": f"000.00.12.H55-260316-0001{brk}Bcc: x@evil.vn",
        "applicant_name": HOSTILE_NAME.replace("\r\n", brk),
        "procedure_name": f"Khai sinh{brk}X-Injected: 1",
        "agency_name": f"UBND{brk}Reply-To: x@evil.vn",
    })
    return render(kind, "email", ctx.model_dump())  # as the delivery loop does: from the stored JSON


@pytest.mark.parametrize("brk", BREAKS, ids=repr)
def test_hostile_names_and_codes_add_no_header(brk: str) -> None:
    notice = hostile_notice(brk=brk)
    assert notice.subject == "[000.00.12.H55-260316-0001 Bcc: x@evil.vn] Xác nhận tiếp nhận hồ sơ và hẹn trả kết quả"
    for raw in (email_bytes(notice, TO, KEY, SmtpSettings()),
                build_email(notice, TO, KEY, SmtpSettings()).as_bytes(policy=SMTP)):
        assert header_names(raw) == OUR_HEADERS
        msg = parse(raw)
        assert msg["Subject"] == notice.subject and "\n" not in str(msg["Subject"])
        plain = msg.get_body(("plain",))
        assert plain is not None
        assert "Kính gửi Ông/Bà Lan Bcc: x@evil.vn," in plain.get_content()  # the name, on one line
        assert all(len(part.keys()) == 2 for part in msg.iter_parts())  # nothing added to the parts either


@pytest.mark.parametrize("kind", list(NoticeKind), ids=str)
def test_every_kind_keeps_a_hostile_context_out_of_the_headers(kind: NoticeKind) -> None:
    assert header_names(email_bytes(hostile_notice(kind), TO, KEY, SmtpSettings())) == OUR_HEADERS


@pytest.mark.parametrize("brk", BREAKS, ids=repr)
def test_a_subject_with_line_breaks_is_one_header_line_of_text(brk: str) -> None:
    notice = render("received", "email", sample_context("received"))
    for subject in (f"Hồ sơ{brk}Bcc: x@evil.vn", f"Plain{brk}Bcc: x@evil.vn", f"{brk}Bcc: x@evil.vn{brk}"):
        raw = email_bytes(RenderedNotice(subject, notice.text, notice.html, 1), TO, KEY, SmtpSettings())
        assert header_names(raw) == OUR_HEADERS
        subject_read = str(parse(raw)["Subject"])
        assert "Bcc: x@evil.vn" in subject_read and not any(c in subject_read for c in "\r\n\x00\x85\u2028")


@pytest.mark.parametrize("name", [HOSTILE_NAME, "Lan\nBcc: x@evil.vn", "Bộ phận\r\nBcc: x@evil.vn", "Lan\x00"])
def test_a_display_name_with_line_breaks_is_refused_in_the_settings_and_folded_by_the_header(name: str) -> None:
    with pytest.raises(ValidationError, match="from_name must be one line"):
        SmtpSettings(from_name=name)
    raw = from_header(name, "mot-cua@onestop.local")
    assert "\r\n" not in raw.replace("\r\n ", "") and "\n" not in raw.replace("\r\n ", "")
    message = f"From: {raw}\r\nTo: {TO}\r\n\r\nbody\r\n".encode("ascii")
    assert header_names(message) == ["From", "To"]
    msg = parse(message)
    [address] = msg["From"].addresses
    assert address.addr_spec == "mot-cua@onestop.local"
    assert " ".join(address.display_name.split()) == single_line(name)


HOSTILE_ADDRESSES = [
    "a@example.vn\r\nBcc: x@evil.vn", "a@example.vn\nBcc: x@evil.vn", "a@example.vn\rBcc: x@evil.vn",
    "a@example.vn\r\n\r\nbody", "a@example.vn\u2028Bcc: x@evil.vn", "a@example.vn\x85Bcc: x@evil.vn",
    "a@example.vn\x00", "a@example.vn, x@evil.vn", "a@example.vn,x@evil.vn", "a@example.vn;x@evil.vn",
    "Lan <a@example.vn>", "grp:a@example.vn;", "\"a b\"@example.vn", "a@example.vn (x)", "a@@example.vn",
    "a@example", "a@example.vn.", "",
]


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES, ids=repr)
def test_an_address_that_is_not_one_bare_address_is_refused_before_any_header(address: str) -> None:
    assert not is_address(address)
    notice = render("received", "email", sample_context("received"))
    with pytest.raises(ValueError, match="not one bare e-mail address"):
        email_bytes(notice, address, KEY, SmtpSettings())
    with pytest.raises(ValueError, match="not one bare e-mail address"):
        build_email(notice, address, KEY, SmtpSettings())


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES, ids=repr)
async def test_the_sender_refuses_such_an_address_for_good(address: str) -> None:
    sender = LogEmail(SmtpSettings(provider="log"))
    result = await sender.send(address, render("received", "email", sample_context("received")), KEY)
    assert result.status is DeliveryStatus.PERMANENT_FAILURE and result.reason == "invalid e-mail address"
    assert sender.sent == []


@pytest.mark.parametrize("address", ["cong.dan@example.vn", "a.b+c@mail.ubnd.example.vn", "ngân@example.vn",
                                     " cong.dan@example.vn\r\n"])
async def test_real_addresses_still_go_out(address: str) -> None:
    sender = LogEmail(SmtpSettings(provider="log"))
    result = await sender.send(address, render("received", "email", sample_context("received")), KEY)
    assert result.status is DeliveryStatus.DELIVERED
    assert [str(m["To"]) for m in sender.sent] == [address.strip()]


@pytest.mark.parametrize(("field", "value"), [
    ("from_address", "a@example.vn\r\nBcc: x@evil.vn"), ("from_address", "Lan <a@example.vn>"),
    ("message_id_domain", "onestop.local>\r\nBcc: x@evil.vn"),
])
def test_settings_that_would_put_a_line_break_in_a_header_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        SmtpSettings.model_validate({field: value})


def test_unstructured_header_never_carries_a_bare_line_break() -> None:
    for value in ("a\r\nBcc: x", "ấ\r\nBcc: x", "=?utf-8?q?x?=\nBcc: x", "x" * 200 + "\r\nBcc: x"):
        raw = unstructured_header("Subject", value)
        assert "\r" not in raw.replace("\r\n ", "") and "\n" not in raw.replace("\r\n ", "")
        assert header_names(f"Subject: {raw}\r\n\r\nx\r\n".encode("ascii")) == ["Subject"]
