"""The hand-assembled e-mail (raw headers, binascii quoted-printable) reads back exactly like the message the
stdlib EmailMessage API builds (the previous implementation, kept below as the reference), for every kind and
for long, accented and awkward texts; and its wire form is 7-bit, CRLF, with lines RFC 5322/2045 allow."""

from __future__ import annotations

import random
import re
from datetime import datetime
from email import message_from_bytes
from email.header import Header, decode_header, make_header
from email.message import EmailMessage
from email.policy import SMTP
from email.policy import default as default_policy
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import pytest

from services.notifications.adapters.email import IDEMPOTENCY_HEADER, SmtpSettings, build_email, email_bytes
from services.notifications.adapters.mime import quoted_printable, unstructured_header
from services.notifications.domain import NoticeKind, RenderedNotice, message_id, notice_key, render, sample_context

KEY = notice_key("5b0e3c1e-5a43-4f3e-9f7a-0c7d2c6f1a10", "0f0b8c52-7f3a-4c55-a0a4-9a6b3f0d2e11", "email")
TO = "cong.dan@example.vn"


# -- the reference: the stdlib EmailMessage API, as build_email did it before ------------------------------
def _reference_header(msg: EmailMessage, name: str, value: str, address: str | None = None) -> None:
    if value.isascii():
        msg[name] = f"{value} <{address}>" if address else value
        return
    header = Header(value, "utf-8", header_name=name)
    if address:
        header.append(f"<{address}>", "us-ascii")
    msg.set_raw(name, header.encode())


def reference_email(notice: RenderedNotice, to: str, key: str, settings: SmtpSettings) -> EmailMessage:
    assert notice.subject is not None and notice.html is not None
    msg = EmailMessage()
    if settings.from_name:
        _reference_header(msg, "From", settings.from_name, settings.from_address)
    else:
        msg["From"] = settings.from_address
    msg["To"] = to
    _reference_header(msg, "Subject", notice.subject)
    msg["Date"] = format_datetime(datetime.now().astimezone())
    msg["Message-ID"] = message_id(key, settings.message_id_domain)
    msg[IDEMPOTENCY_HEADER] = key
    msg.set_content(notice.text, charset="utf-8", cte="quoted-printable")
    msg.add_alternative(notice.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


# -- what a reader sees --------------------------------------------------------------------------------------
def wire(msg: EmailMessage) -> bytes:
    """As aiosmtplib flattens an EmailMessage for SMTP."""
    return msg.as_bytes(policy=SMTP)


def reader_view(msg: EmailMessage) -> dict[str, Any]:
    """Everything a mail reader shows or relies on (Date aside: it is the time of building)."""
    assert isinstance(parsedate_to_datetime(str(msg["Date"])), datetime)
    parts = []
    for part in msg.iter_parts():
        assert isinstance(part, EmailMessage)
        parts.append((part.get_content_type(), part.get_content_charset(), part["Content-Transfer-Encoding"],
                      part.get_content().replace("\r\n", "\n")))
    return {
        # email.policy.default reads a space between the encoded-words of a display name (RFC 2047: none)
        "from": [(" ".join(a.display_name.split()), a.addr_spec) for a in msg["From"].addresses],
        "to": str(msg["To"]),
        "subject": str(msg["Subject"]),
        "message_id": str(msg["Message-ID"]),
        "key": str(msg[IDEMPOTENCY_HEADER]),
        "type": msg.get_content_type(),
        "mime_version": str(msg["MIME-Version"]),
        "parts": parts,
        "plain": msg.get_body(("plain",)).get_content().replace("\r\n", "\n"),  # type: ignore[union-attr]
        "html": msg.get_body(("html",)).get_content().replace("\r\n", "\n"),  # type: ignore[union-attr]
    }


def rfc2047_from(raw: bytes) -> str:
    """The From header as an RFC 2047 reader decodes it (whitespace between encoded-words ignored)."""
    value = next(v for k, v in parse(raw).raw_items() if k == "From")
    return str(make_header(decode_header(value)))


def parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=default_policy)
    assert isinstance(msg, EmailMessage)
    return msg


def assert_good_wire(raw: bytes) -> None:
    assert raw.isascii(), "7-bit for any MTA"
    assert b"\r" not in raw.replace(b"\r\n", b"") and b"\n" not in raw.replace(b"\r\n", b""), "CRLF only"
    head, _, body = raw.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):  # 78 recommended; longer only for one unbreakable word (998 at most)
        assert len(line) <= 78 or (len(line) <= 998 and b" " not in line.partition(b": ")[2].strip()), line
    for line in body.split(b"\r\n"):
        assert len(line) <= 76, line
        assert not line.endswith((b" ", b"\t")), line


def assert_equivalent(notice: RenderedNotice, settings: SmtpSettings, to: str = TO, key: str = KEY) -> None:
    expected = reader_view(parse(wire(reference_email(notice, to, key, settings))))
    # where the stdlib-built message itself reads back wrong, what it should read: the display name as set
    # (an unquoted "OneStop, UBND" read as two addresses; a name cut inside a word), the subject as rendered
    # (ASCII "=?...?=" read as an encoded-word)
    name = " ".join((settings.from_name or "").split())
    expected["from"] = [(name, settings.from_address)]
    expected["subject"] = notice.subject
    built = build_email(notice, to, key, settings)
    raw = email_bytes(notice, to, key, settings)
    assert_good_wire(raw)
    assert_good_wire(wire(built))
    assert reader_view(parse(raw)) == expected  # what EmailSender submits
    assert reader_view(parse(wire(built))) == expected  # the EmailMessage, flattened as aiosmtplib would
    assert reader_view(built) == expected  # the EmailMessage itself (LogEmail keeps it; tests read it)
    if settings.from_name and not settings.from_name.isascii():
        assert rfc2047_from(raw) == f"{settings.from_name} <{settings.from_address}>"
    text = notice.text.replace("\r\n", "\n").replace("\r", "\n")
    assert expected["plain"] == text + ("" if text.endswith("\n") else "\n")


SETTINGS = [
    SmtpSettings(),
    SmtpSettings(from_name=None, message_id_domain="ubnd.test"),
    SmtpSettings(from_name="OneStop, UBND (test)", from_address="no-reply@ubnd.test"),
    SmtpSettings(from_name="Bộ phận Tiếp nhận và Trả kết quả UBND phường Nguyễn Thị Minh Khai, quận Hai Bà Trưng"),
]


@pytest.mark.parametrize("kind", list(NoticeKind), ids=str)
@pytest.mark.parametrize("settings", SETTINGS, ids=range(len(SETTINGS)))
def test_every_kind_reads_back_as_with_the_stdlib_builder(kind: NoticeKind, settings: SmtpSettings) -> None:
    assert_equivalent(render(kind, "email", sample_context(kind)), settings)


AWKWARD = [
    "Thiếu <giấy> & dấu = 100% \"đủ\"",
    "Hồ sơ còn thiếu giấy tờ theo quy định " * 12,  # long line, soft breaks
    "Dòng có khoảng trắng cuối   \nvà tab cuối\t\n.\nFrom the ward\n=3D is not an escape",
    "Windows\r\nline\rends\r\n\r\nend",
    "x" * 300 + "ấ" * 80,  # no space to break at
    "emoji 📄✅ và ký tự tổ hợp: Tiếng Việt",
    "",
]


@pytest.mark.parametrize("reason", AWKWARD, ids=range(len(AWKWARD)))
def test_awkward_texts_read_back_as_with_the_stdlib_builder(reason: str) -> None:
    ctx = sample_context("refused").model_copy(update={"reason": reason or "-"})
    notice = render("refused", "email", ctx)
    assert_equivalent(notice, SmtpSettings())
    long_subject = RenderedNotice(subject=f"[{ctx.dossier_code}] " + " ".join(reason.split()) + " Từ chối hồ sơ",
                                  text=reason, html=f"<p>{reason}</p>", parts=1)
    assert_equivalent(long_subject, SmtpSettings())


@pytest.mark.parametrize("subject", [
    "Plain ASCII subject",
    "A plain ASCII subject long enough that it has to be folded over more than one line of the header",
    "ASCII that looks like =?utf-8?q?an_encoded_word?= must stay literal",
    "Tiếng Việt: " + "Yêu cầu bổ sung, hoàn thiện hồ sơ " * 5,
])
def test_subjects_and_keys_read_back(subject: str) -> None:
    notice = render("received", "email", sample_context("received"))
    notice = RenderedNotice(subject=subject.strip(), text=notice.text, html=notice.html, parts=1)
    assert_equivalent(notice, SmtpSettings(), key="d" * 60 + ":" + "e" * 60 + ":email")


def test_folded_encoded_subject_keeps_its_spaces() -> None:
    notice = render("supplement_requested", "email", sample_context("supplement_requested"))
    raw = email_bytes(notice, TO, KEY, SmtpSettings())
    assert re.search(rb"Subject: =\?utf-8\?b\?[^\r]+\?=\r\n =\?utf-8\?b\?", raw), "folded over lines"
    assert parse(raw)["Subject"] == "[000.00.12.H55-260316-0001] Yêu cầu bổ sung, hoàn thiện hồ sơ"


def test_message_id_and_boundary_are_deterministic() -> None:
    notice = render("received", "email", sample_context("received"))
    first, second = (parse(email_bytes(notice, TO, KEY, SmtpSettings())) for _ in range(2))
    assert first["Message-ID"] == second["Message-ID"] == message_id(KEY)
    assert first.get_boundary() == second.get_boundary()


def test_random_texts_round_trip() -> None:
    rng = random.Random(7)
    alphabet = "aăâbcdđeêghiklmnoôơpqrstuưvxyÀẢÃÁẠẰẲẴẮẶ =.\t\n\r_?<>&\"'-📄"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        encoded = quoted_printable(text)
        assert encoded.isascii() and all(len(line) <= 76 for line in encoded.split("\n"))
        expected = text.replace("\r\n", "\n").replace("\r", "\n")
        expected += "" if expected.endswith("\n") else "\n"
        raw = (f"Subject: {unstructured_header('Subject', ' '.join(text.split()))}\r\n"
               "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
               + encoded.replace("\n", "\r\n")).encode("ascii")
        msg = parse(raw)
        assert msg.get_content().replace("\r\n", "\n") == expected
        assert str(msg["Subject"]) == " ".join(text.split())


def test_an_internationalised_address_is_left_to_the_stdlib() -> None:
    notice = render("received", "email", sample_context("received"))
    msg = build_email(notice, "ngân@example.vn", KEY, SmtpSettings())
    assert str(msg["To"]) == "ngân@example.vn"
    with pytest.raises(ValueError):
        email_bytes(notice, "ngân@example.vn", KEY, SmtpSettings())
