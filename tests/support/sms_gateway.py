"""A real local SMS gateway over HTTP (stdlib http.server in a thread) for integration and e2e tests.

- POST /sms  JSON {to, text, idempotency_key} (+ `Idempotency-Key` header): stores the message once per key;
  a repeated key is acknowledged with the first message's id and counted as a duplicate.
- Programmable: `program("4xx" | "5xx" | "hang" | "ok", count=N)` shapes the next N answers.
- Inspection over HTTP too (for e2e across processes): GET /messages, GET /stats, POST /program, POST /reset.
- Standalone: `python -m tests.support.sms_gateway --port 8099 [--token SECRET]`.
"""

from __future__ import annotations

import argparse
import json
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Mode = Literal["ok", "4xx", "5xx", "hang"]
DEFAULT_ANSWERS: dict[str, tuple[int, dict[str, Any]]] = {
    "4xx": (400, {"status": "error", "error": "invalid destination number"}),
    "5xx": (503, {"status": "error", "error": "carrier temporarily unavailable"}),
}


@dataclass(frozen=True)
class ReceivedSms:
    to: str
    text: str
    idempotency_key: str
    provider_id: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Programmed:
    mode: Mode
    status: int | None = None
    body: dict[str, Any] | None = None


class SmsGatewayServer:
    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, token: str | None = None, hang_seconds: float = 30.0
    ) -> None:
        self.token, self.hang_seconds = token, hang_seconds
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._queue: deque[_Programmed] = deque()
        self._by_key: dict[str, ReceivedSms] = {}
        self.messages: list[ReceivedSms] = []
        self.requests = 0
        self.duplicates = 0
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/sms"

    def start(self) -> SmsGatewayServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sms-gateway", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # wake any hanging request
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SmsGatewayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- programming and inspection ----------------------------------------------------------------
    def program(
        self, mode: Mode, count: int = 1, status: int | None = None, body: dict[str, Any] | None = None
    ) -> None:
        with self._lock:
            self._queue.extend(_Programmed(mode, status, body) for _ in range(count))

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._by_key.clear()
            self.messages.clear()
            self.requests = self.duplicates = 0

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"requests": self.requests, "stored": len(self.messages), "duplicates": self.duplicates}

    # -- request handling (called from server threads) ---------------------------------------------
    def _next(self) -> _Programmed:
        with self._lock:
            self.requests += 1
            return self._queue.popleft() if self._queue else _Programmed("ok")

    def _accept(self, payload: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        key = headers.get("idempotency-key") or str(payload.get("idempotency_key") or "")
        with self._lock:
            if key and key in self._by_key:
                self.duplicates += 1
                return 200, {"status": "ok", "id": self._by_key[key].provider_id, "duplicate": True}
            sms = ReceivedSms(str(payload["to"]), str(payload["text"]), key, f"msg-{len(self.messages) + 1}", headers)
            self.messages.append(sms)
            if key:
                self._by_key[key] = sms
            return 200, {"status": "ok", "id": sms.provider_id}

    def handle_sms(self, payload: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        """Returns (status, body), or None when the request should hang."""
        if self.token is not None and headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"status": "error", "error": "bad credentials"}
        if not isinstance(payload, dict) or not payload.get("to") or not payload.get("text"):
            return 400, {"status": "error", "error": "to and text are required"}
        step = self._next()
        if step.mode == "hang":
            self._release.wait(self.hang_seconds)
            return None
        if step.mode in DEFAULT_ANSWERS:
            status, body = DEFAULT_ANSWERS[step.mode]
            return step.status or status, step.body or body
        return self._accept(payload, headers)


def _handler_for(gateway: SmsGatewayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (timeout test)
                pass

        def _payload(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                return json.loads(self.rfile.read(length) or b"null")
            except ValueError:
                return None

        def do_GET(self) -> None:
            if self.path == "/messages":
                self._reply(200, [asdict(m) for m in gateway.messages])
            elif self.path == "/stats":
                self._reply(200, gateway.stats())
            else:
                self._reply(404, {"error": "not found"})

        def do_POST(self) -> None:
            payload = self._payload()
            if self.path == "/sms":
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = gateway.handle_sms(payload, headers)
                if answer is not None:
                    self._reply(*answer)
            elif self.path == "/program" and isinstance(payload, dict):
                gateway.program(
                    payload.get("mode", "ok"), int(payload.get("count", 1)), payload.get("status"), payload.get("body")
                )
                self._reply(200, {"status": "ok"})
            elif self.path == "/reset":
                gateway.reset()
                self._reply(200, {"status": "ok"})
            else:
                self._reply(404, {"error": "not found"})

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="Local SMS gateway for OneStop tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--token", default=None)
    args = parser.parse_args()
    server = SmsGatewayServer(args.host, args.port, args.token)
    print(f"sms gateway listening on {server.url}", flush=True)
    server._httpd.serve_forever()


if __name__ == "__main__":
    main()
