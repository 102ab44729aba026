"""An in-process SMTP server (aiosmtpd Controller on a free port) that collects parsed messages.

    with SmtpTestServer() as smtp:
        ...send to smtp.host:smtp.port...
        smtp.messages[0]["Subject"]

`reject_next(code, text, count)` makes the next RCPT TO commands fail (e.g. 550 or 451).
Standalone: `python -m tests.support.smtp_server --port 1025` prints each message it receives.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections import deque
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class _Collector:
    def __init__(self, server: SmtpTestServer) -> None:
        self.server = server

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        refusal = self.server._pop_refusal()
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=default_policy)
        assert isinstance(message, EmailMessage)
        number = self.server._store(message, envelope.mail_from, list(envelope.rcpt_tos))
        return f"250 2.0.0 Ok: queued as Q{number:05d}"


class SmtpTestServer:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host, self.port = host, port or free_port(host)
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TOs)
        self._refusals: deque[str] = deque()
        self._lock = threading.Lock()
        self._controller = Controller(_Collector(self), hostname=host, port=self.port)

    def start(self) -> SmtpTestServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reject_next(self, code: int = 550, text: str = "5.1.1 Mailbox unavailable", count: int = 1) -> None:
        with self._lock:
            self._refusals.extend(f"{code} {text}" for _ in range(count))

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)

    def _pop_refusal(self) -> str | None:
        with self._lock:
            return self._refusals.popleft() if self._refusals else None

    def _store(self, message: EmailMessage, mail_from: str, rcpt_tos: list[str]) -> int:
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((mail_from, rcpt_tos))
            return len(self.messages)


def main() -> None:
    parser = argparse.ArgumentParser(description="Local SMTP sink for OneStop tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    args = parser.parse_args()
    with SmtpTestServer(args.host, args.port) as smtp:
        print(f"smtp sink listening on {smtp.host}:{smtp.port}", flush=True)
        seen = 0
        while True:
            time.sleep(0.5)
            for msg in smtp.messages[seen:]:
                print(f"--- {msg['To']}: {msg['Subject']} ({msg['Message-ID']})", flush=True)
            seen = len(smtp.messages)


if __name__ == "__main__":
    main()
