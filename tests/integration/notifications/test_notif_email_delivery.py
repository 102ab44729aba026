"""EmailSender against a real in-process SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from services.notifications.adapters import EmailSender, SmtpSettings, build_email
from services.notifications.domain import (
    DeliveryStatus,
    RenderedNotice,
    message_id,
    notice_key,
    render,
    sample_context,
)
from tests.support.smtp_server import SmtpTestServer, free_port

KEY = notice_key("dossier-1", "event-1", "email")


def sender_for(host: str, port: int, timeout: float = 5) -> EmailSender:
    return EmailSender(SmtpSettings(host=host, port=port, timeout_seconds=timeout, message_id_domain="ubnd.test"))


def notice() -> RenderedNotice:
    return render("supplement_requested", "email", sample_context("supplement_requested"))


async def test_delivered_with_both_parts_and_diacritics(smtp_server: SmtpTestServer) -> None:
    result = await sender_for(smtp_server.host, smtp_server.port).send("cong.dan@example.vn", notice(), KEY)
    assert result.status is DeliveryStatus.DELIVERED, result.reason
    assert result.provider_id == message_id(KEY, "ubnd.test")
    [msg] = smtp_server.wait_for(1)
    # the encoded subject is folded; the spaces between words must survive
    assert msg["Subject"] == "[000.00.12.H55-260316-0001] Yêu cầu bổ sung, hoàn thiện hồ sơ"
    assert msg["Message-ID"] == message_id(KEY, "ubnd.test")
    assert msg["X-OneStop-Idempotency-Key"] == KEY
    assert msg["From"].addresses[0].display_name == "Bộ phận Một cửa"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    assert "Kính gửi Ông/Bà Nguyễn Văn Đức" in text.get_content()
    assert "Giấy chứng nhận kết hôn của cha mẹ (bản sao)" in text.get_content()
    assert "<li>Giấy chứng sinh (bản chính)</li>" in html.get_content()
    assert smtp_server.envelopes[0][1] == ["cong.dan@example.vn"]


async def test_repeat_after_crash_carries_the_same_message_id(smtp_server: SmtpTestServer) -> None:
    sender = sender_for(smtp_server.host, smtp_server.port)
    await sender.send("cong.dan@example.vn", notice(), KEY)
    await sender.send("cong.dan@example.vn", notice(), KEY)
    first, second = smtp_server.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"]


async def test_5xx_recipient_is_permanent(smtp_server: SmtpTestServer) -> None:
    smtp_server.reject_next(550, "5.1.1 No such user")
    result = await sender_for(smtp_server.host, smtp_server.port).send("khong.co@example.vn", notice(), KEY)
    assert result.status is DeliveryStatus.PERMANENT_FAILURE
    assert "550" in result.reason and "No such user" in result.reason


async def test_4xx_recipient_is_temporary_and_then_recovers(smtp_server: SmtpTestServer) -> None:
    smtp_server.reject_next(451, "4.3.0 Try again later")
    sender = sender_for(smtp_server.host, smtp_server.port)
    first = await sender.send("cong.dan@example.vn", notice(), KEY)
    assert first.status is DeliveryStatus.TEMPORARY_FAILURE and "451" in first.reason
    second = await sender.send("cong.dan@example.vn", notice(), KEY)
    assert second.status is DeliveryStatus.DELIVERED
    assert len(smtp_server.wait_for(1)) == 1


async def test_connection_refused_is_temporary() -> None:
    result = await sender_for("127.0.0.1", free_port()).send("cong.dan@example.vn", notice(), KEY)
    assert result.status is DeliveryStatus.TEMPORARY_FAILURE
    assert "connection" in result.reason or "connect" in result.reason.lower()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts TCP connections but never greets: an SMTP server that hangs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        yield sock.getsockname()[1]


async def test_timeout_is_temporary(silent_server: int) -> None:
    sender = sender_for("127.0.0.1", silent_server, timeout=0.5)
    result = await asyncio.wait_for(sender.send("cong.dan@example.vn", notice(), KEY), 5)
    assert result.status is DeliveryStatus.TEMPORARY_FAILURE
    assert "timeout" in result.reason.lower()


async def test_invalid_address_is_permanent_without_connecting() -> None:
    result = await sender_for("127.0.0.1", free_port()).send("not-an-address", notice(), KEY)
    assert result.status is DeliveryStatus.PERMANENT_FAILURE and "invalid e-mail" in result.reason


def test_build_email_refuses_an_sms_rendering() -> None:
    sms = render("received", "sms", sample_context("received"))
    with pytest.raises(ValueError):
        build_email(sms, "a@b.vn", KEY, SmtpSettings())


async def test_hostile_names_and_subjects_reach_the_server_as_text_not_headers(smtp_server: SmtpTestServer) -> None:
    ctx = sample_context("received").model_copy(update={
        "applicant_name": "Lan\r\nBcc: x@evil.vn", "dossier_code": "000.00.12.H55-260316-0001\r\nCc: y@evil.vn",
        "agency_name": "UBND\nReply-To: x@evil.vn"})
    hostile = render("received", "email", ctx.model_dump())
    result = await sender_for(smtp_server.host, smtp_server.port).send("cong.dan@example.vn", hostile, KEY)
    assert result.status is DeliveryStatus.DELIVERED, result.reason
    [msg] = smtp_server.wait_for(1)
    assert [name for name, _ in msg.raw_items()] == [
        "From", "To", "Subject", "Date", "Message-ID", "X-OneStop-Idempotency-Key", "MIME-Version", "Content-Type"]
    assert msg["Subject"] == "[000.00.12.H55-260316-0001 Cc: y@evil.vn] Xác nhận tiếp nhận hồ sơ và hẹn trả kết quả"
    assert smtp_server.envelopes == [("mot-cua@onestop.local", ["cong.dan@example.vn"])]  # nobody else
    text = msg.get_body(("plain",))
    assert text is not None and "Kính gửi Ông/Bà Lan Bcc: x@evil.vn," in text.get_content()


@pytest.mark.parametrize("address", ["cong.dan@example.vn\r\nBcc: x@evil.vn", "cong.dan@example.vn,x@evil.vn",
                                     "Lan <cong.dan@example.vn>\r\nBcc: x@evil.vn"])
async def test_a_hostile_address_never_reaches_the_server(smtp_server: SmtpTestServer, address: str) -> None:
    result = await sender_for(smtp_server.host, smtp_server.port).send(address, notice(), KEY)
    assert result.status is DeliveryStatus.PERMANENT_FAILURE and result.reason == "invalid e-mail address"
    result = await sender_for(smtp_server.host, smtp_server.port).send("cong.dan@example.vn", notice(), KEY)
    assert result.status is DeliveryStatus.DELIVERED  # the next, good one arrives, and it alone
    assert [m["To"] for m in smtp_server.wait_for(1)] == ["cong.dan@example.vn"]
    assert smtp_server.envelopes == [("mot-cua@onestop.local", ["cong.dan@example.vn"])]
