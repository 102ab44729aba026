"""Notices end to end: dossiers posted to intake and case events on the processing topic reach a real SMTP
server and a real HTTP SMS gateway with the right texts — exactly the notices the policy switches on."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from libs.auth import issue_token
from libs.contracts import Envelope, Event, encode, topics
from libs.settings import CommonSettings
from services.notifications.domain import message_id, vn_datetime
from tests.support.kafka import find_records, publish_raw
from tests.support.sms_gateway import ReceivedSms, SmsGatewayServer
from tests.support.smtp_server import SmtpTestServer
from tests.support.stack import Stack, eventually
from tests.unit.notifications import notif_factory as f

pytestmark = pytest.mark.infra
WARD = f.WARD
OTHER_WARD = "000.00.13.H55"
CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "config" / "notifications.yaml"
LOOKUP = "http://127.0.0.1:8000/tra-cuu"  # lookup_url of deploy/config/notifications.yaml


def token(agency: str = WARD, roles: tuple[str, ...] = ("desk_officer",)) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token('notices-e2e', list(roles), agency, CommonSettings().jwt_secret)}"}


@dataclass
class Channels:
    smtp: SmtpTestServer
    gateway: SmsGatewayServer
    sensitive: set[str] = field(default_factory=set)

    def sms_of(self, dossier_id: str) -> list[ReceivedSms]:
        return [m for m in list(self.gateway.messages) if m.idempotency_key.startswith(f"{dossier_id}:")]

    def mail_to(self, address: str) -> list[EmailMessage]:
        return [m for m in list(self.smtp.messages) if m["To"] == address]


@pytest.fixture(scope="module")
async def channels(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Channels]:
    """Our own SMTP server and SMS gateway; the stack's notifications restarted to use them (its own consumer
    group, started at the end of the log), with `extended` off for SMS and `transferred` (off by default) on —
    and put back as it was afterwards."""
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config["policy"]["kinds"]["extended"] = {"sms": False, "email": True}
    config["policy"]["kinds"]["transferred"] = {"sms": True, "email": True}
    path = tmp_path_factory.mktemp("notices") / "notifications.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    group = f"notices-e2e-{secrets.token_hex(4)}"  # no wait for the killed member; no replay of the log
    await f.commit_at_end(stack.kafka, group)
    with SmtpTestServer() as smtp, SmsGatewayServer() as gateway:
        overrides = {
            "ONESTOP_NOTIFICATIONS_CONSUMER_GROUP": group,
            "ONESTOP_NOTIFICATIONS_CONFIG_FILE": str(path),
            "ONESTOP_NOTIFICATIONS_EMAIL_PROVIDER": "smtp",
            "ONESTOP_NOTIFICATIONS_SMTP_HOST": smtp.host,
            "ONESTOP_NOTIFICATIONS_SMTP_PORT": str(smtp.port),
            "ONESTOP_NOTIFICATIONS_SMS_PROVIDER": "http",
            "ONESTOP_NOTIFICATIONS_SMS_URL": gateway.url,
            "ONESTOP_NOTIFICATIONS_POLL_SECONDS": "0.2",
        }
        stack.kill9("notifications")
        stack.start("notifications", overrides)
        await stack.wait_ready("notifications")
        found = Channels(smtp, gateway)
        try:
            yield found
        finally:
            if hasattr(stack, "sensitive"):
                stack.sensitive |= found.sensitive
            stack.kill9("notifications")
            stack.start("notifications")
            await stack.wait_ready("notifications")


async def post_dossier(client: httpx.AsyncClient, stack: Stack, ch: Channels) -> dict[str, Any]:
    email = f"nt-{secrets.token_hex(4)}@example.vn"
    phone = f"0912{secrets.randbelow(10**6):06d}"
    ch.sensitive |= {email, phone, "+84" + phone[1:]}
    body = {"procedure_code": "1.001193", "channel": "in_person", "receiving_agency": WARD,
            "applicant": {"full_name": "Nguyễn Thị Lan", "personal_id": "019190001234", "phone": phone,
                          "email": email},
            "documents": [{"name": "Tờ khai đăng ký khai sinh", "digitised": True}]}
    r = await client.post(f"{stack.url('intake')}/api/v1/dossiers", json=body, headers=token())
    assert r.status_code == 201, r.text
    return {**r.json(), "email": email, "phone": phone}


async def publish(stack: Stack, event: Event, at: datetime) -> str:
    env = Envelope.for_event(event, at, str(uuid.uuid4()))
    await publish_raw(stack.kafka, event.topic, event.key, encode(event), env.headers())
    return env.id


async def clock_now(client: httpx.AsyncClient, stack: Stack) -> datetime:
    r = await client.get(f"{stack.url('intake')}/admin/clock")
    r.raise_for_status()
    return datetime.fromisoformat(r.json()["now"])


async def notices_api(client: httpx.AsyncClient, stack: Stack, code: str, agency: str = WARD) -> httpx.Response:
    return await client.get(f"{stack.url('notifications')}/api/v1/notices", params={"dossier": code},
                            headers=token(agency))


async def arrived(ch: Channels, dossier: dict[str, Any], sms: int, mails: int) -> bool:
    got_sms, got_mail = len(ch.sms_of(dossier["id"])), len(ch.mail_to(dossier["email"]))
    assert got_sms <= sms and got_mail <= mails, f"more than expected: {got_sms} SMS, {got_mail} e-mails"
    return got_sms == sms and got_mail == mails


def kinds_by_key(dossier: dict[str, Any], events: dict[str, str], messages: list[str]) -> list[str]:
    """Notice kinds of the idempotency keys `dossier:event:channel` (the receipt's event id is intake's)."""
    return sorted(events.get(key.split(":")[1], "received") for key in messages)


async def test_each_event_reaches_the_citizen_once_with_its_text(stack: Stack, channels: Channels) -> None:
    ch = channels
    async with httpx.AsyncClient(timeout=10) as client:
        a = await post_dossier(client, stack, ch)
        code, appointment = a["code"], datetime.fromisoformat(a["appointment_at"])
        await eventually(lambda: arrived(ch, a, 1, 1), timeout=20)
        [sms] = ch.sms_of(a["id"])
        assert sms.text == (f"Ho so {code} da duoc tiep nhan. Hen tra ket qua: {vn_datetime(appointment)}. "
                            f"Tra cuu: {LOOKUP}")
        assert sms.to == "+84" + a["phone"][1:]
        [mail] = ch.mail_to(a["email"])
        assert mail["Message-ID"] == message_id(f"{a['id']}:{sms.idempotency_key.split(':')[1]}:email")
        assert code in mail["Subject"]
        plain = mail.get_body(preferencelist=("plain",))
        assert plain is not None and "Kính gửi Ông/Bà Nguyễn Thị Lan" in plain.get_content()

        d, base = uuid.UUID(a["id"]), await clock_now(client, stack)
        events: dict[str, str] = {}
        steps: list[tuple[Event, str | None, int, int]] = [  # event, notice kind, SMS and e-mails expected so far
            (f.transferred(d, code, base + timedelta(minutes=1)), "transferred", 2, 2),
            (f.supplement_requested(d, code, base + timedelta(minutes=2)), "supplement_requested", 3, 3),
            (f.supplement_received(d, code, base + timedelta(minutes=3)), None, 3, 3),
            (f.extended(d, code, base + timedelta(minutes=4)), "extended", 3, 4),  # SMS switched off
            (f.result_ready(d, code, base + timedelta(minutes=5)), "result_ready", 4, 5),
            (f.handed_over(d, code, base + timedelta(minutes=6), method="post"), "result_posted", 5, 6),
        ]
        for event, kind, sms_count, mail_count in steps:
            event_id = await publish(stack, event, event.at)  # type: ignore[attr-defined]
            if kind:
                events[event_id] = kind
            await eventually(lambda s=sms_count, m=mail_count: arrived(ch, a, s, m), timeout=20)  # type: ignore[misc]

        await asyncio.sleep(1.5)  # nothing else turns up
        sms_keys = [m.idempotency_key for m in ch.sms_of(a["id"])]
        mail_keys = [str(m["X-OneStop-Idempotency-Key"]) for m in ch.mail_to(a["email"])]
        assert kinds_by_key(a, events, sms_keys) == [
            "received", "result_posted", "result_ready", "supplement_requested", "transferred"]
        assert kinds_by_key(a, events, mail_keys) == [
            "extended", "received", "result_posted", "result_ready", "supplement_requested", "transferred"]
        assert len(set(sms_keys)) == len(sms_keys) and ch.gateway.duplicates == 0
        texts = {events.get(m.idempotency_key.split(":")[1], "received"): m.text for m in ch.sms_of(a["id"])}
        assert texts["supplement_requested"].startswith(
            f"Ho so {code} can bo sung: Giay chung sinh (ban chinh). Nop tai: Bo phan Mot cua ")
        assert texts["result_posted"].startswith(f"Ket qua ho so {code} da duoc gui qua buu dien.")
        extended_mail = next(m for m in ch.mail_to(a["email"])
                             if events.get(str(m["X-OneStop-Idempotency-Key"]).split(":")[1]) == "extended")
        new_date = vn_datetime(base + timedelta(minutes=4, days=4))
        body = extended_mail.get_body(preferencelist=("plain",))
        assert body is not None and new_date in body.get_content()

        # The officer's log: every notice delivered, contacts masked, other wards see nothing.
        r = await notices_api(client, stack, code)
        assert r.status_code == 200, r.text
        notices = r.json()
        assert len(notices) == 11 and {n["status"] for n in notices} == {"delivered"}
        assert a["phone"] not in r.text and a["email"] not in r.text
        assert (await notices_api(client, stack, code, OTHER_WARD)).status_code == 404
        anonymous = await client.get(f"{stack.url('notifications')}/api/v1/notices", params={"dossier": code})
        assert anonymous.status_code == 401
        retry = await client.post(f"{stack.url('notifications')}/api/v1/notices/{notices[0]['id']}/retry",
                                  headers=token())
        assert retry.status_code == 409, "a delivered notice is not sent again"

    outcomes = await find_records(stack.kafka, topics.NOTIFICATIONS, lambda r: r.key == a["id"].encode(),
                                  at_least=11, timeout=15)
    assert len(outcomes) == 11
    assert {dict(r.headers)["ce_type"] for r in outcomes} == {b"vn.onestop.notice.delivered.v1"}


async def test_rejection_stop_refusal_and_a_stale_request(stack: Stack, channels: Channels) -> None:
    ch = channels
    async with httpx.AsyncClient(timeout=10) as client:
        b, c, e = [await post_dossier(client, stack, ch) for _ in range(3)]
        for dossier in (b, c, e):
            await eventually(lambda x=dossier: arrived(ch, x, 1, 1), timeout=20)  # type: ignore[misc]
        base = await clock_now(client, stack)

        db, dc, de = uuid.UUID(b["id"]), uuid.UUID(c["id"]), uuid.UUID(e["id"])
        await publish(stack, f.rejected(db, b["code"], base, reason="không thuộc đối tượng"), base)
        await publish(stack, f.result_ready(db, b["code"], base + timedelta(minutes=1), outcome="rejected"), base)
        await publish(stack, f.stopped(dc, c["code"], base, reason="người yêu cầu đề nghị dừng"), base)
        # Papers received (later) read before the request (earlier): the request is stale, never sent.
        await publish(stack, f.supplement_received(de, e["code"], base + timedelta(minutes=2)), base)
        late = await publish(stack, f.supplement_requested(de, e["code"], base + timedelta(minutes=1)), base)
        # A refusal at the desk (Form 03) for a dossier intake never accepted.
        dr, code_r = uuid.uuid4(), f"{WARD}-991231-{secrets.randbelow(9999):04d}"
        refusal = f.refused(dr, code_r, base, reason="Thủ tục không thuộc thẩm quyền")
        refusal = refusal.model_copy(update={"applicant": refusal.applicant.model_copy(
            update={"email": f"nt-{secrets.token_hex(4)}@example.vn", "phone": "0912345678"})})
        ch.sensitive |= {str(refusal.applicant.email)}
        await publish(stack, refusal, base)
        r = {"id": str(dr), "email": refusal.applicant.email}

        await eventually(lambda: arrived(ch, b, 2, 2), timeout=20)
        await eventually(lambda: arrived(ch, c, 2, 2), timeout=20)
        await eventually(lambda: arrived(ch, r, 1, 1), timeout=20)
        assert ch.sms_of(b["id"])[1].text == (
            f"Ho so {b['code']} khong du dieu kien giai quyet. Ly do: khong thuoc doi tuong.")
        assert ch.sms_of(c["id"])[1].text == f"Ho so {c['code']} da dung giai quyet. Ly do: nguoi yeu cau de nghi dung."
        assert ch.sms_of(str(dr))[0].text == (
            f"Ho so {code_r} khong duoc tiep nhan. Ly do: Thu tuc khong thuoc tham quyen.")

        async def expired() -> list[dict[str, Any]]:
            rows = (await notices_api(client, stack, e["code"])).json()
            return [n for n in rows if n["event_id"] == late and n["status"] == "expired"]

        assert len(await eventually(expired, timeout=15)) == 2
        await asyncio.sleep(1)
        assert len(ch.sms_of(e["id"])) == 1 and len(ch.mail_to(e["email"])) == 1, "only the receipt notice"

        text = (await client.get(f"{stack.url('notifications')}/metrics")).text
        assert 'onestop_notices_total{channel="sms",event="stopped",status="delivered"}' in text
        assert 'onestop_notices_total{channel="email",event="supplement_requested",status="expired"}' in text
        assert "onestop_notice_send_seconds_bucket" in text and "onestop_notice_retry_queue" in text


async def test_template_preview(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        url = f"{stack.url('notifications')}/api/v1/templates"
        r = await client.get(f"{url}/extended/preview", params={"channel": "sms"})
        assert r.status_code == 200 and r.json()["text"].startswith("Xin loi Ong/Ba: ho so ")
        mail = (await client.get(f"{url}/result_ready/preview")).json()
        assert mail["subject"] and "<html" in mail["html"].lower()
        assert (await client.get(f"{url}/birthday/preview")).status_code == 404
        assert (await client.get(f"{url}/received/preview", params={"channel": "zalo"})).status_code == 404


async def test_a_real_ward_to_city_lifecycle_sends_exactly_the_expected_notices(
    stack: Stack, channels: Channels
) -> None:
    """No hand-made events here: the desk, the real workflow service and the desk again drive the dossier,
    and the citizen gets exactly received, transferred, supplement requested and result ready — by SMS and
    by e-mail, once each (the hand-over in person sends nothing).

    The citizen acts as one would: brings the papers after the request reached them, collects the result
    after being told it is ready. Papers or a hand-over recorded before a notice went out make it stale,
    and it is rightly never sent (services/notifications/domain/stale.py)."""
    from tests.e2e import test_workflow as wf

    ch = channels
    email, phone = f"lc-{secrets.token_hex(4)}@example.vn", f"0913{secrets.randbelow(10**6):06d}"
    ch.sensitive |= {email, phone, "+84" + phone[1:]}
    body = {"procedure_code": wf.LAND, "channel": "in_person", "receiving_agency": WARD,
            "applicant": {"full_name": "Trần Văn Bình", "personal_id": "019090001234", "phone": phone,
                          "email": email},
            "documents": [{"name": "Đơn đăng ký biến động đất đai", "digitised": True}]}
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{stack.url('intake')}/api/v1/dossiers", json=body, headers=wf.WARD_DESK)
        assert r.status_code == 201, r.text
        code, dossier_id = r.json()["code"], r.json()["id"]
        await eventually(lambda: wf.case(client, stack, code), timeout=15)
        await wf.ok(client, stack, code, wf.WARD_DESK, "transfer")
        await wf.ok(client, stack, code, wf.CITY_HEAD, "acknowledge")
        await wf.ok(client, stack, code, wf.CITY_HEAD, "assign", officer="city-spec", step_code="review")
        await wf.ok(client, stack, code, wf.CITY_HEAD, "complete-step")
        await wf.ok(client, stack, code, wf.CITY_SPEC, "request-supplement", items=["Bản sao sổ đỏ"],
                    reason="Thiếu bản sao")
        await eventually(lambda: received(ch, dossier_id, email, 3), timeout=20)
        await wf.at_the_desk(client, stack, code, "supplements", {"documents": [{"name": "Bản sao sổ đỏ"}]})
        await eventually(lambda: wf.in_state(client, stack, code, 4), timeout=15)
        for officer in (wf.CITY_SPEC, wf.CITY_HEAD):  # review, head of division
            await wf.ok(client, stack, code, officer, "complete-step")
        await wf.ok(client, stack, code, wf.CITY_HEAD, "approve")
        await wf.ok(client, stack, code, wf.CITY_SPEC, "return")
        await wf.ok(client, stack, code, wf.WARD_DESK, "acknowledge")
        await eventually(lambda: received(ch, dossier_id, email, 4), timeout=20)
        await wf.at_the_desk(client, stack, code, "handover", {"method": "in_person"})
        await eventually(lambda: wf.in_state(client, stack, code, 10), timeout=15)

    await asyncio.sleep(2)  # anything extra (a duplicate, an unwanted kind) would arrive by now
    sms = sorted(m.text for m in ch.sms_of(dossier_id))
    assert len(sms) == 4, sms
    assert [t.split(". ")[0] for t in sms] == sorted([
        f"Ho so {code} da duoc tiep nhan",
        f"Ho so {code} da duoc chuyen co quan co tham quyen giai quyet",
        f"Ho so {code} can bo sung: Ban sao so do",
        f"Ho so {code} da co ket qua",
    ])
    assert all(m.to == "+84" + phone[1:] for m in ch.sms_of(dossier_id))
    subjects = sorted(str(m["Subject"]) for m in ch.mail_to(email))
    assert subjects == sorted(f"[{code}] {s}" for s in (
        "Xác nhận tiếp nhận hồ sơ và hẹn trả kết quả", "Hồ sơ đã được chuyển đến cơ quan có thẩm quyền",
        "Yêu cầu bổ sung, hoàn thiện hồ sơ", "Mời nhận kết quả giải quyết hồ sơ",
    ))
    assert len({m["Message-ID"] for m in ch.mail_to(email)}) == 4


async def received(ch: Channels, dossier_id: str, email: str, count: int) -> bool:
    """Exactly `count` SMS and e-mails arrived so far; a failure names what did arrive."""
    sms, mail = [m.text for m in ch.sms_of(dossier_id)], [str(m["Subject"]) for m in ch.mail_to(email)]
    assert len(sms) <= count and len(mail) <= count, f"more than {count}: {sms} {mail}"
    if len(sms) == count and len(mail) == count:
        return True
    raise AssertionError(f"{len(sms)} SMS {sms}, {len(mail)} e-mails {mail}")
