"""Planning decisions (pure: domain/facts.py, planning.py, outcomes.py): which event asks for which notice, on
which channel, created or expired."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from notif_factory import (
    T0,
    WARD,
    WARD_NAME,
    envelope,
    extended,
    handed_over,
    new_dossier,
    overdue,
    received,
    refused,
    rejected,
    result_ready,
    stopped,
    supplement_received,
    supplement_requested,
    transferred,
)

from libs.contracts import intake as ie
from services.notifications.adapters.config import NotificationsConfig, parse_config
from services.notifications.domain import (
    Channel,
    DossierState,
    MissingContextError,
    NoticeKind,
    NoticeProgress,
    NoticeStatus,
    render,
)
from services.notifications.domain.facts import event_time, facts_of, next_state
from services.notifications.domain.outcomes import outcome_event
from services.notifications.domain.planning import FALLBACK_REJECTION, DossierView, notice_context, plan_notices
from services.notifications.store import NoticeRow

D, CODE = new_dossier()
K = NoticeKind
S = DossierState


def view(**changes: object) -> DossierView:
    base = DossierView(D, CODE, "Nguyễn Thị Lan", "0912345678", "lan@example.vn", WARD_NAME, "Đăng ký khai sinh",
                       "received", T0 + timedelta(days=1))
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("event", "state", "kind"),
    [
        (received(D, CODE), S.RECEIVED, K.RECEIVED),
        (refused(D, CODE), S.REFUSED, K.REFUSED),
        (transferred(D, CODE, T0), S.TRANSFERRED, K.TRANSFERRED),
        (supplement_requested(D, CODE, T0), S.SUPPLEMENT_REQUESTED, K.SUPPLEMENT_REQUESTED),
        (supplement_received(D, CODE, T0), S.PROCESSING, None),
        (extended(D, CODE, T0), S.PROCESSING, K.EXTENDED),
        (result_ready(D, CODE, T0), S.RESULT_READY, K.RESULT_READY),
        (result_ready(D, CODE, T0, outcome="rejected"), S.REJECTED, K.REJECTED),
        (handed_over(D, CODE, T0, method="post"), S.RESULT_DELIVERED, K.RESULT_POSTED),
        (handed_over(D, CODE, T0, method="in_person"), S.RESULT_DELIVERED, None),
        (stopped(D, CODE, T0), S.STOPPED, K.STOPPED),
        (rejected(D, CODE, T0), S.PROCESSING, None),
        (overdue(D, CODE, T0), None, None),  # a warning to officers: nothing for the citizen
    ],
)
def test_which_event_asks_for_which_notice(event: object, state: DossierState | None, kind: NoticeKind | None) -> None:
    facts = facts_of(event)  # type: ignore[arg-type]
    assert (facts.state, facts.kind) == (state, kind)


def test_contacts_come_from_receipt_and_refusal_only() -> None:
    got = facts_of(received(D, CODE, email=None)).contact
    assert got is not None and (got.phone, got.email, got.receiving_agency) == ("0912345678", None, WARD)
    assert facts_of(refused(D, CODE)).contact is not None
    assert facts_of(stopped(D, CODE, T0)).contact is None


def test_intake_events_after_receipt_move_the_state() -> None:
    withdrawn = ie.DossierWithdrawn(dossier_id=D, code=CODE, at=T0)
    assert facts_of(withdrawn).state is S.WITHDRAWN
    assert facts_of(ie.SupplementSubmitted(dossier_id=D, code=CODE)).state is S.PROCESSING
    assert facts_of(ie.ResultHandedOver(dossier_id=D, code=CODE, method="post")).kind is None  # processing's tells


def test_extension_context_has_both_appointments() -> None:
    facts = facts_of(extended(D, CODE, T0))
    assert facts.extra["reason"] == "cần xác minh thêm thông tin"
    assert facts.extra["new_appointment_at"].startswith("2026-03-20")
    assert facts.appointment_at == T0 + timedelta(days=4)


def test_event_time_prefers_the_event_own_time() -> None:
    event = stopped(D, CODE, T0)
    assert event_time(event, envelope(event, T0 + timedelta(hours=5))) == T0
    bare = ie.SupplementSubmitted(dossier_id=D, code=CODE)
    assert event_time(bare, envelope(bare, T0 + timedelta(hours=5))) == T0 + timedelta(hours=5)


def test_latest_state_is_not_moved_back_by_an_older_event() -> None:
    assert next_state("received", T0, S.SUPPLEMENT_REQUESTED, T0 + timedelta(hours=1)) == (
        "supplement_requested", T0 + timedelta(hours=1))
    later = T0 + timedelta(hours=2)
    assert next_state("processing", later, S.SUPPLEMENT_REQUESTED, T0) == ("processing", later)
    assert next_state("processing", later, None, later + timedelta(hours=1)) == ("processing", later)
    assert next_state("submitted", None, S.RECEIVED, T0) == ("received", T0)


def config(yaml: str = "") -> NotificationsConfig:
    return parse_config(yaml, environ={})


def test_one_notice_per_reachable_channel_with_its_key() -> None:
    plans = plan_notices(K.RECEIVED, view(), "ev-1", {"appointment_at": "2026-03-17T02:00:00Z"}, config())
    assert [(p.channel, p.recipient) for p in plans] == [(Channel.SMS, "0912345678"), (Channel.EMAIL, "lan@example.vn")]
    assert [p.key for p in plans] == [f"{D}:ev-1:sms", f"{D}:ev-1:email"]
    assert all(p.expired_because is None for p in plans)
    assert plan_notices(K.RECEIVED, view(email=None), "ev-1", {"appointment_at": T0}, config())[0].channel == "sms"
    assert plan_notices(K.RECEIVED, view(email=None, phone=None), "ev-1", {"appointment_at": T0}, config()) == []


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_kind_switches_off_and_on_per_channel(kind: NoticeKind) -> None:
    extra = {"reason": "lý do", "appointment_at": T0, "new_appointment_at": T0, "missing_items": ["giấy"]}
    off_sms = config(f"policy: {{kinds: {{{kind.value}: {{sms: false, email: true}}}}}}")
    assert [p.channel for p in plan_notices(kind, view(), "e", extra, off_sms)] == [Channel.EMAIL]
    off_both = config(f"policy: {{kinds: {{{kind.value}: {{sms: false, email: false}}}}}}")
    assert plan_notices(kind, view(), "e", extra, off_both) == []
    on_both = config(f"policy: {{kinds: {{{kind.value}: {{sms: true, email: true}}}}}}")
    assert len(plan_notices(kind, view(), "e", extra, on_both)) == 2


def test_transferred_is_off_by_default_and_switching_one_kind_leaves_the_others() -> None:
    assert plan_notices(K.TRANSFERRED, view(), "e", {}, config()) == []
    cfg = config("policy: {kinds: {stopped: {sms: false, email: false}}}")
    assert plan_notices(K.STOPPED, view(), "e", {"reason": "x"}, cfg) == []
    assert len(plan_notices(K.RESULT_POSTED, view(), "e", {}, cfg)) == 2


def test_channel_master_switch() -> None:
    plans = plan_notices(K.RESULT_POSTED, view(), "e", {}, config("policy: {channels: {email: false}}"))
    assert [p.channel for p in plans] == [Channel.SMS]


def test_stale_notice_is_planned_expired() -> None:
    extra = {"missing_items": ["giấy"], "reason": "thiếu"}
    plans = plan_notices(K.SUPPLEMENT_REQUESTED, view(state="processing"), "e", extra, config())
    assert [p.expired_because for p in plans] == ["stale: the dossier is processing"] * 2
    fresh = plan_notices(K.SUPPLEMENT_REQUESTED, view(state="supplement_requested"), "e", extra, config())
    assert [p.expired_because for p in fresh] == [None, None]


def test_context_defaults_fill_what_events_do_not_carry() -> None:
    ctx = notice_context(K.RESULT_READY, view(), {"appointment_at": T0}, "http://lookup")
    assert ctx.pickup_place == f"Bộ phận Một cửa {WARD_NAME}" and ctx.lookup_url == "http://lookup"
    assert notice_context(K.TRANSFERRED, view(), {}, None).appointment_at == T0 + timedelta(days=1)
    assert notice_context(K.REJECTED, view(), {}, None).reason == FALLBACK_REJECTION
    assert notice_context(K.REJECTED, view(rejection_reason="quá hạn"), {}, None).reason == "quá hạn"
    assert notice_context(K.REJECTED, view(rejection_reason="quá hạn"), {"reason": "khác"}, None).reason == "khác"
    with pytest.raises(MissingContextError):
        notice_context(K.STOPPED, view(), {"reason": ""}, None)


def test_planned_context_renders_on_both_channels() -> None:
    facts = facts_of(supplement_requested(D, CODE, T0))
    for plan in plan_notices(K.SUPPLEMENT_REQUESTED, view(), "e", facts.extra, config()):
        text = render(K.SUPPLEMENT_REQUESTED, plan.channel, plan.context).text
        assert CODE in text and ("Giay chung sinh" in text or "Giấy chứng sinh" in text)


def test_outcome_events_only_for_final_statuses() -> None:
    row = NoticeRow(id=uuid.uuid4(), key="k", dossier_id=D, code=CODE, event_id="e", kind="received", channel="sms",
                    recipient="0912345678", status="sending", created_at=T0, updated_at=T0)
    done = outcome_event(row, NoticeProgress(NoticeStatus.DELIVERED, 2, provider_id="msg-1"), T0)
    assert done is not None and done.ce_type == "vn.onestop.notice.delivered.v1"
    assert (done.attempts, done.notice_id, done.dossier_id) == (2, str(row.id), D)
    for status in (NoticeStatus.PERMANENT_FAILURE, NoticeStatus.TECHNICAL_FAILURE, NoticeStatus.EXPIRED):
        failed = outcome_event(row, NoticeProgress(status, 1, reason="why"), T0)
        assert failed is not None and failed.ce_type == "vn.onestop.notice.failed.v1"
        assert (failed.status, failed.reason) == (status.value, "why")  # type: ignore[attr-defined]
    assert outcome_event(row, NoticeProgress(NoticeStatus.TEMPORARY_FAILURE, 1), T0) is None
