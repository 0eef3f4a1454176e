"""A fake Graph API: a real HTTP server on 127.0.0.1 that records requests and can be scripted.

    with FakeGraph() as graph:
        graph.fail(500)                                   # the next request gets a 500
        graph.fail(429, headers={"Retry-After": "30"})    # then a 429
        graph.fail(400, code=131047)                      # then a permanent Meta error
        ... point CHASQUI_GRAPH_API_URL at graph.url ...
        graph.requests   # every request: path, headers, JSON body, and the answer it got

Requests that are not scripted get a 200 with a fresh ``wamid.FAKE.<n>``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int
    wamid: str | None = None

    @property
    def token(self) -> str:
        return self.headers.get("authorization", "").removeprefix("Bearer ")

    @property
    def text(self) -> str:
        return ((self.body or {}).get("text") or {}).get("body", "")

    @property
    def to(self) -> str:
        return (self.body or {}).get("to", "")


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeGraph:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._script: list[_Answer] = []
        self._lock = threading.Lock()
        self._counter = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-graph", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- scripting ------------------------------------------------------------------------------
    def fail(
        self,
        status: int,
        *,
        code: int | None = None,
        message: str = "error",
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        error: dict[str, Any] = {"message": message, "type": "OAuthException", "fbtrace_id": "FAKE"}
        if code is not None:
            error["code"] = code
        with self._lock:
            self._script.extend(_Answer(status, {"error": error}, dict(headers or {})) for _ in range(times))

    def sent(self) -> list[Recorded]:
        """The requests that were accepted (2xx), in order."""
        with self._lock:
            return [r for r in self.requests if 200 <= r.status < 300]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Recorded]:
        """Wait until ``count`` messages were accepted; returns them (fewer on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            accepted = self.sent()
            if len(accepted) >= count:
                return accepted
            time.sleep(0.02)
        return self.sent()

    # -- server ---------------------------------------------------------------------------------
    def _answer(self, method: str, path: str, headers: dict[str, str], body: Any) -> _Answer:
        with self._lock:
            if self._script:
                answer = self._script.pop(0)
                self.requests.append(Recorded(method, path, headers, body, answer.status))
                return answer
            self._counter += 1
            wamid = f"wamid.FAKE.{self._counter}"
            self.requests.append(Recorded(method, path, headers, body, 200, wamid))
        to = (body or {}).get("to", "") if isinstance(body, dict) else ""
        return _Answer(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}],
            },
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = fake._answer("POST", self.path, headers, body)
                data = json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                return

        return Handler

    def __enter__(self) -> FakeGraph:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
