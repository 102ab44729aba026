"""Rendering the desk's forms: Jinja2 templates to HTML, WeasyPrint to PDF (fonts with Vietnamese glyphs)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from services.intake.domain.receipt import LOCAL

TEMPLATES = Path(__file__).parent / "templates"


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or the Pango libraries it needs) is not installed on this machine."""


def _local(moment: datetime | None, fmt: str) -> str:
    return moment.astimezone(LOCAL).strftime(fmt) if moment else ""


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
        auto_reload=False,  # templates ship with the service: compiled once, no stat() of the file per render
    )
    env.filters["local"] = _local
    return env


_ENV = _environment()


def render_html(template: str, context: dict[str, Any]) -> str:
    return _ENV.get_template(f"{template}.html.j2").render(**context)


def html_to_pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML  # imported on first use: it loads Pango
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(f"PDF rendering is not available here: {exc}") from exc
    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    return pdf


async def render_pdf(html: str) -> bytes:
    """In a worker thread: a page takes tens of milliseconds of CPU, the first one much longer."""
    return await asyncio.to_thread(html_to_pdf, html)
