"""Render a notice (soạn nội dung thông báo) from the template files for one kind and channel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from services.notifications.domain.context import VN_TZ, NoticeContext, check_context, single_line
from services.notifications.domain.gsm7 import sms_parts, to_gsm7_unaccented
from services.notifications.domain.kinds import Channel, NoticeKind

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True, slots=True)
class RenderedNotice:
    subject: str | None  # e-mail only
    text: str  # SMS text (unaccented GSM-7) or the e-mail plain-text part
    html: str | None  # e-mail only
    parts: int  # SMS parts; 1 for an e-mail


def vn_datetime(value: datetime) -> str:
    """`HH:mm dd/MM/yyyy` in Asia/Ho_Chi_Minh; naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")


@lru_cache(maxsize=4)
def environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the code: no stat() of the file on every render
    )
    env.filters["vn_datetime"] = vn_datetime
    return env


@lru_cache(maxsize=128)
def _template(env: Environment, kind: NoticeKind, name: str) -> Template:
    """A compiled template, looked up once (no loader / cache lookup per render)."""
    return env.get_template(f"{kind.value}/{name}")


def _run(template: Template, parent: dict[str, Any]) -> str:
    """Template.render without its per-call copies: `parent` already holds the environment's globals
    (see _variables) and is shared, read-only, by the templates of one notice."""
    return template.environment.concat(template.root_render_func(template.new_context(parent, shared=True)))


def _variables(env: Environment, kind: NoticeKind, context: NoticeContext) -> dict[str, Any]:
    """What Template.render would see: the environment's globals, the context's fields and the kind."""
    return {**env.globals, **context.__dict__, "kind": kind.value}


def _render(env: Environment, kind: NoticeKind, name: str, variables: dict[str, Any]) -> str:
    return _run(_template(env, kind, name), variables)


def _render_sms(env: Environment, kind: NoticeKind, variables: dict[str, Any]) -> RenderedNotice:
    text = " ".join(to_gsm7_unaccented(_render(env, kind, "sms.txt.j2", variables)).split())
    return RenderedNotice(subject=None, text=text, html=None, parts=sms_parts(text))


def _render_email(env: Environment, kind: NoticeKind, variables: dict[str, Any]) -> RenderedNotice:
    subject = single_line(_render(env, kind, "email_subject.txt.j2", variables))  # a header: one line
    variables = {**variables, "subject": subject}
    text = _render(env, kind, "email.txt.j2", variables).strip() + "\n"
    html = _render(env, kind, "email.html.j2", variables).strip() + "\n"
    return RenderedNotice(subject=subject, text=text, html=html, parts=1)


def render(
    kind: NoticeKind | str,
    channel: Channel | str,
    ctx: NoticeContext | Mapping[str, Any],
    templates_dir: Path = TEMPLATES_DIR,
) -> RenderedNotice:
    """Render one notice; raises MissingContextError when the kind's required fields are empty."""
    kind, channel = NoticeKind(kind), Channel(channel)
    context = ctx if isinstance(ctx, NoticeContext) else NoticeContext.model_validate(ctx)
    check_context(kind, context)
    env = environment(templates_dir)
    variables = _variables(env, kind, context)
    if channel is Channel.SMS:
        return _render_sms(env, kind, variables)
    return _render_email(env, kind, variables)
