"""Rendered notices pinned per kind and channel, plus the rendering rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from services.notifications.domain import (
    TEMPLATES_DIR,
    Channel,
    MissingContextError,
    NoticeKind,
    is_gsm7,
    render,
    sample_context,
    vn_datetime,
)

KINDS = list(NoticeKind)
FILES = ("sms.txt.j2", "email_subject.txt.j2", "email.html.j2", "email.txt.j2")


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_every_kind_has_all_template_files(kind: NoticeKind) -> None:
    for name in FILES:
        assert (TEMPLATES_DIR / kind.value / name).is_file(), f"{kind.value}/{name}"


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_sms_snapshot(kind: NoticeKind, assert_snapshot: Callable[[str, str], None]) -> None:
    notice = render(kind, Channel.SMS, sample_context(kind))
    assert notice.subject is None and notice.html is None
    assert_snapshot(f"{kind.value}/sms.txt", f"parts={notice.parts}\n{notice.text}\n")


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_email_snapshot(kind: NoticeKind, assert_snapshot: Callable[[str, str], None]) -> None:
    notice = render(kind, Channel.EMAIL, sample_context(kind))
    assert notice.subject and notice.html and notice.parts == 1
    assert_snapshot(f"{kind.value}/email_subject.txt", notice.subject + "\n")
    assert_snapshot(f"{kind.value}/email.txt", notice.text)
    assert_snapshot(f"{kind.value}/email.html", notice.html)


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_sms_is_unaccented_gsm7_and_short(kind: NoticeKind) -> None:
    notice = render(kind, "sms", sample_context(kind))
    assert is_gsm7(notice.text) and notice.text.isascii()
    assert "\n" not in notice.text
    assert notice.parts <= 2
    assert sample_context(kind).dossier_code in notice.text


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_email_keeps_diacritics(kind: NoticeKind) -> None:
    notice = render(kind, "email", sample_context(kind))
    assert "Nguyễn Văn Đức" in notice.text
    assert "Nguyễn Văn Đức" in (notice.html or "")
    assert "Một cửa" in notice.text


def test_html_part_escapes_user_data_but_text_part_does_not() -> None:
    ctx = sample_context("refused").model_copy(update={"reason": "Thiếu <giấy> & dấu"})
    notice = render("refused", "email", ctx)
    assert "Thiếu &lt;giấy&gt; &amp; dấu" in (notice.html or "")
    assert "Thiếu <giấy> & dấu" in notice.text


def test_missing_required_field_is_refused() -> None:
    ctx = sample_context("received").model_copy(update={"appointment_at": None})
    with pytest.raises(MissingContextError, match="appointment_at"):
        render("received", "sms", ctx)
    with pytest.raises(MissingContextError, match="missing_items"):
        render("supplement_requested", "email", sample_context("received"))


def test_context_from_mapping_rejects_naive_times_and_unknown_fields() -> None:
    data = sample_context("received").model_dump()
    render("received", "sms", data)
    with pytest.raises(ValueError):
        render("received", "sms", {**data, "appointment_at": datetime(2026, 3, 20, 14, 0)})
    with pytest.raises(ValueError):
        render("received", "sms", {**data, "surprise": 1})


def test_times_are_shown_in_vietnam_time() -> None:
    assert vn_datetime(datetime(2026, 3, 20, 7, 5, tzinfo=UTC)) == "14:05 20/03/2026"
    assert vn_datetime(datetime(2026, 12, 31, 18, 30, tzinfo=UTC)) == "01:30 01/01/2027"
    with pytest.raises(ValueError):
        vn_datetime(datetime(2026, 3, 20, 7, 5))


def test_long_sms_is_split_and_counted() -> None:
    items = [f"Giấy tờ số {i} theo quy định của thủ tục" for i in range(1, 6)]
    ctx = sample_context("supplement_requested").model_copy(update={"missing_items": items})
    notice = render("supplement_requested", "sms", ctx)
    assert len(notice.text) > 160 and notice.parts == -(-len(notice.text) // 153)
