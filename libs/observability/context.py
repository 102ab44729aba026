"""What a log line is about: the dossier code (and event) bound with structlog contextvars.

Bound for the duration of one consumed event, one relayed event or one HTTP request whose path or query
names a dossier; every log line written meanwhile (structlog or stdlib) carries it as `dossier`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote_plus

from structlog.contextvars import bound_contextvars

# <agency e-ID>-<YYMMDD>-<NNNN>, e.g. 000.00.12.H55-260105-0001 (libs/identity/dossier_code.py)
DOSSIER_CODE = re.compile(r"(?<![\w.])[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)+-\d{6}-\d{4,}(?![\w])")


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Bind the given non-empty fields for the block, then restore what was bound before."""
    present = {k: v for k, v in fields.items() if v}
    with bound_contextvars(**present):
        yield


def dossier_in(path: str, query: str = "") -> str | None:
    """The first dossier code in a request path or (URL-encoded) query string."""
    match = DOSSIER_CODE.search(unquote_plus(path)) or DOSSIER_CODE.search(unquote_plus(query))
    return match.group().upper() if match else None


class DossierLogContext:
    """ASGI middleware: requests about one dossier (…/dossiers/{code}, ?code=…) log with `dossier`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        with log_context(dossier=dossier_in(scope.get("path", ""), query)):
            await self.app(scope, receive, send)
