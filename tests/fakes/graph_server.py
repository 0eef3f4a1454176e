"""A fake Graph API: a real HTTP server on 127.0.0.1 that records requests and can be scripted.

    with FakeGraph() as graph:
        graph.fail(500)                                   # the next request gets a 500
        graph.fail(429, headers={"Retry-After": "30"})    # then a 429
        graph.fail(400, code=131047)                      # then a permanent Meta error
        ... point CHASQUI_GRAPH_API_URL at graph.url ...
        graph.requests   # every request: path, headers, JSON body, and the answer it got

Requests that are not scripted get a 200 with a fresh ``wamid.FAKE.<n>``. A multipart
``POST /{version}/{phone_number_id}/media`` (a media upload) gets ``{"id": "media.FAKE.<n>"}``; its
recorded body is the form fields plus ``file`` = {"filename", "content_type", "size"}, and the bytes
are kept in ``graph.uploaded[media id]``. ``graph.fail(..., path="/messages")`` scripts an answer
only for requests whose path ends so (others pass it by); ``reads=True`` only for mark-as-read requests.

``graph.report_statuses(app_url, app_secret, phone_number_id)`` makes it behave like Meta after
accepting a message: a signed ``sent`` status webhook (with the request's
``biz_opaque_callback_data``) is POSTed to ``app_url/webhook`` from a background thread.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from chasqui.whatsapp.signature import sign


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int
    wamid: str | None = None
    at: float = field(default_factory=time.monotonic)  # when it arrived (this process's monotonic clock)

    @property
    def callback(self) -> str:
        return (self.body or {}).get("biz_opaque_callback_data", "") if isinstance(self.body, dict) else ""

    @property
    def row_id(self) -> int | None:
        """The outbox row this request sends (from ``biz_opaque_callback_data``)."""
        tail = self.callback.removeprefix("chasqui:")
        return int(tail) if tail != self.callback and tail.isdigit() else None

    @property
    def is_upload(self) -> bool:
        """A media upload (``POST .../media``, multipart)."""
        return self.method == "POST" and self.path.endswith("/media") and isinstance(self.body, dict)

    @property
    def is_message(self) -> bool:
        """A message sent to a customer (not a mark-as-read or a media request)."""
        return self.method == "POST" and isinstance(self.body, dict) and "to" in self.body

    @property
    def token(self) -> str:
        return self.headers.get("authorization", "").removeprefix("Bearer ")

    @property
    def text(self) -> str:
        """The text the customer reads (a text message's body, or an interactive message's body)."""
        body = self.body or {}
        if body.get("type") == "interactive":
            return ((body.get("interactive") or {}).get("body") or {}).get("text", "")
        return (body.get("text") or {}).get("body", "")

    @property
    def options(self) -> list[tuple[str, str]]:
        """The ``(id, title)`` of an interactive message's buttons or list rows, in order."""
        action = ((self.body or {}).get("interactive") or {}).get("action") or {}
        buttons = [(b["reply"]["id"], b["reply"]["title"]) for b in action.get("buttons") or []]
        rows = [(r["id"], r["title"]) for section in action.get("sections") or [] for r in section.get("rows") or []]
        return buttons + rows

    @property
    def to(self) -> str:
        return (self.body or {}).get("to", "")


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # a full accept backlog drops SYNs: a 1-3 s stall under load
    daemon_threads = True


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    path: str | None = None  # only for requests whose path ends with this
    reads: bool | None = None  # only mark-as-read requests (True) or only the others (False)

    def matches(self, path: str, body: Any) -> bool:
        is_read = isinstance(body, dict) and body.get("status") == "read"
        return (self.path is None or path.endswith(self.path)) and self.reads in (None, is_read)


def parse_multipart(content_type: str, raw: bytes) -> tuple[dict[str, Any], bytes]:
    """The form fields of a multipart body (a file as {"filename", "content_type", "size"}) and the
    file's bytes."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict[str, Any] = {}
    content = b""
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            content = data
            fields[str(name)] = {"filename": filename, "content_type": part.get_content_type(), "size": len(data)}
        else:
            fields[str(name)] = data.decode("utf-8", "replace")
    return fields, content


class FakeGraph:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._script: list[_Answer] = []
        self._lock = threading.Lock()
        self._counter = 0
        self._statuses: queue.Queue[tuple[Recorded, str] | None] | None = None
        self._status_target: tuple[str, str, str] | None = None
        self._status_thread: threading.Thread | None = None
        self._status_delay = 0.0
        self.on_accept: Callable[[Recorded], None] | None = None  # called after each accepted message
        self.media: dict[str, tuple[bytes, str, dict[str, Any]]] = {}
        self.uploaded: dict[str, bytes] = {}  # media id -> bytes of each accepted upload
        self._server = _Server(("127.0.0.1", 0), self._handler())
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
        path: str | None = None,
        reads: bool | None = None,
    ) -> None:
        error: dict[str, Any] = {"message": message, "type": "OAuthException", "fbtrace_id": "FAKE"}
        if code is not None:
            error["code"] = code
        with self._lock:
            self._script.extend(
                _Answer(status, {"error": error}, dict(headers or {}), path, reads) for _ in range(times)
            )

    def add_media(self, media_id: str, content: bytes, mime_type: str, **info: Any) -> None:
        """Serve ``GET /{version}/{media_id}`` (its URL, type, size, sha256; ``info`` overrides) and the
        download itself at that URL (only with a Bearer token)."""
        import hashlib

        described = {"file_size": len(content), "sha256": hashlib.sha256(content).hexdigest(), **info}
        self.media[media_id] = (content, mime_type, described)

    def sent(self) -> list[Recorded]:
        """The messages that were accepted (2xx), in order."""
        with self._lock:
            return [r for r in self.requests if 200 <= r.status < 300 and r.is_message]

    def uploads(self) -> list[Recorded]:
        """The media uploads that were accepted (2xx), in order."""
        with self._lock:
            return [r for r in self.requests if 200 <= r.status < 300 and r.is_upload]

    def accepted_per_row(self) -> Counter[int]:
        """How many times each outbox row was accepted (every value should be 1)."""
        return Counter(r.row_id for r in self.sent() if r.row_id is not None)

    # -- status webhooks, as Meta sends them --------------------------------------------------------
    def report_statuses(self, app_url: str, app_secret: str, phone_number_id: str, delay_s: float = 0.2) -> None:
        """About ``delay_s`` after each accepted message, POST a signed ``sent`` status to
        ``app_url/webhook`` (Meta's come within a second or two)."""
        self._status_target = (app_url.rstrip("/") + "/webhook", app_secret, phone_number_id)
        self._status_delay = delay_s
        if self._status_thread is None:
            self._statuses = queue.Queue()
            self._status_thread = threading.Thread(target=self._post_statuses, name="fake-graph-statuses", daemon=True)
            self._status_thread.start()

    def _post_statuses(self) -> None:
        assert self._statuses is not None
        with httpx.Client(timeout=10.0) as client:
            while (item := self._statuses.get()) is not None:
                request, wamid = item
                if self._status_target is None:
                    continue
                time.sleep(max(request.at + self._status_delay - time.monotonic(), 0.0))
                url, secret, phone_number_id = self._status_target
                status = {"id": wamid, "status": "sent", "timestamp": str(int(time.time())), "recipient_id": request.to}
                if request.callback:
                    status["biz_opaque_callback_data"] = request.callback
                body = {
                    "object": "whatsapp_business_account",
                    "entry": [
                        {
                            "id": "fake-waba",
                            "changes": [
                                {
                                    "field": "messages",
                                    "value": {
                                        "messaging_product": "whatsapp",
                                        "metadata": {"phone_number_id": phone_number_id},
                                        "statuses": [status],
                                    },
                                }
                            ],
                        }
                    ],
                }
                raw = json.dumps(body).encode()
                for _attempt in range(5):  # Meta retries a webhook that fails
                    try:
                        if client.post(url, content=raw, headers={"X-Hub-Signature-256": sign(raw, secret)}).is_success:
                            break
                    except httpx.HTTPError:
                        pass
                    time.sleep(0.2)

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
    def _answer(
        self, method: str, path: str, headers: dict[str, str], body: Any, content: bytes = b""
    ) -> _Answer:
        with self._lock:
            scripted = next((a for a in self._script if a.matches(path, body)), None)
            if scripted is not None:
                self._script.remove(scripted)
                self.requests.append(Recorded(method, path, headers, body, scripted.status))
                return scripted
            self._counter += 1
            if path.endswith("/media") and isinstance(body, dict):
                media_id = f"media.FAKE.{self._counter}"
                self.uploaded[media_id] = content
                self.requests.append(Recorded(method, path, headers, body, 200, media_id))
                return _Answer(200, {"id": media_id})
            wamid = f"wamid.FAKE.{self._counter}"
            recorded = Recorded(method, path, headers, body, 200, wamid)
            self.requests.append(recorded)
        if self._statuses is not None and recorded.is_message:
            self._statuses.put((recorded, wamid))
        if self.on_accept is not None and recorded.is_message:
            self.on_accept(recorded)
        to = (body or {}).get("to", "") if isinstance(body, dict) else ""
        return _Answer(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}],
            },
        )

    def _get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes, str]:
        if not headers.get("authorization", "").startswith("Bearer "):
            error = {"error": {"message": "Invalid OAuth access token", "code": 190}}
            return 401, json.dumps(error).encode(), "application/json"
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "download" and parts[1] in self.media:
            content, mime_type, _info = self.media[parts[1]]
            return 200, content, mime_type
        if len(parts) == 2 and parts[1] in self.media:
            _content, mime_type, info = self.media[parts[1]]
            described = {"messaging_product": "whatsapp", "id": parts[1], "mime_type": mime_type,
                         "url": f"{self.url}/download/{parts[1]}", **info}
            return 200, json.dumps(described).encode(), "application/json"
        error = {"error": {"message": "Unsupported get request", "code": 100}}
        return 404, json.dumps(error).encode(), "application/json"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real Graph API
            disable_nagle_algorithm = True  # headers and body go in separate writes: no 40 ms stall

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                content = b""
                if headers.get("content-type", "").startswith("multipart/form-data"):
                    body, content = parse_multipart(headers["content-type"], raw)
                else:
                    try:
                        body = json.loads(raw) if raw else None
                    except ValueError:
                        body = raw.decode("utf-8", "replace")
                answer = fake._answer("POST", self.path, headers, body, content)
                data = json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, body, content_type = fake._get(self.path, headers)
                with fake._lock:
                    fake.requests.append(Recorded("GET", self.path, headers, None, status))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                return

            def handle(self) -> None:
                try:
                    super().handle()
                except (ConnectionError, TimeoutError):  # the client died mid-request (SIGKILL tests)
                    self.close_connection = True

        return Handler

    def __enter__(self) -> FakeGraph:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._statuses is not None:
            self._statuses.put(None)
            if self._status_thread is not None:
                self._status_thread.join(timeout=5)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
