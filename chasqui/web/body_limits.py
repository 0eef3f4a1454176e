"""Request bodies: a deadline to arrive and a size cap per route, enforced while they stream in.

uvicorn (h11) has no timeout for a request body: a client that sends one byte every few seconds
held its connection, and the route waiting for the form, forever. ``BodyLimits`` (pure ASGI,
outside every other middleware of the app) wraps ``receive``: the body must keep coming (at most
``idle_s`` between chunks) and be complete within the route's deadline, or the request is answered
408 and the connection closed; a body larger than the route's cap (counted as it streams, so a
chunked body without Content-Length is caught too) is answered 413. Routes read their bodies as
before; this is the floor under them.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chasqui.web.admin.common import MAX_FORM_BYTES, MAX_UPLOAD_BYTES
from chasqui.web.operator.media import MAX_REQUEST_BYTES as MAX_REPLY_BYTES

MULTIPART_SLACK = 64 * 1024  # boundaries and the other fields around an uploaded file
TIMEOUT_MESSAGE = "El envío tardó demasiado y se canceló. Revisa tu conexión y vuelve a intentarlo."
TOO_LARGE_MESSAGE = "El envío es demasiado grande."


@dataclass(frozen=True)
class BodyRule:
    path: re.Pattern[str]
    max_bytes: int
    upload: bool = False  # uploads get the longer deadline


RULES = (
    BodyRule(re.compile(r"/admin/catalog/import"), MAX_UPLOAD_BYTES + MULTIPART_SLACK, upload=True),
    BodyRule(re.compile(r"/conversations/\d+/reply"), MAX_REPLY_BYTES, upload=True),
)
DEFAULT_MAX_BYTES = MAX_FORM_BYTES + MULTIPART_SLACK  # forms, JSON and the webhook (its own cap: 1 MiB)


class BodyTimeout(Exception):
    pass


class BodyTooLarge(Exception):
    pass


def rule_for(path: str) -> tuple[int, bool]:
    """(size cap, is an upload) of the route at ``path``."""
    for rule in RULES:
        if rule.path.fullmatch(path):
            return rule.max_bytes, rule.upload
    return DEFAULT_MAX_BYTES, False


class BodyLimits:
    def __init__(self, app: ASGIApp, *, total_s: float, upload_total_s: float, idle_s: float) -> None:
        self.app, self.total_s, self.upload_total_s, self.idle_s = app, total_s, upload_total_s, idle_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes, upload = rule_for(scope["path"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.upload_total_s if upload else self.total_s)
        received = 0
        body_done = False
        response_started = False
        cut: Exception | None = None  # why the body was cut; whatever the app answers then, we answer

        async def limited_receive() -> Message:
            nonlocal received, body_done, cut
            if body_done:  # after the body only a disconnect can come: no deadline on waiting for it
                return await receive()
            wait = min(self.idle_s, deadline - loop.time())
            try:
                if wait <= 0:
                    raise BodyTimeout
                message = await asyncio.wait_for(receive(), wait)
            except TimeoutError:
                cut = BodyTimeout()
                raise cut from None
            except BodyTimeout as exc:
                cut = exc
                raise
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    cut = BodyTooLarge()
                    raise cut
                body_done = not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if cut is not None:  # the app turned our exception into its own error page: answer ours
                if message["type"] == "http.response.start" and not response_started:
                    response_started = True
                    await _answer_cut(send, cut)
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except (BodyTimeout, BodyTooLarge) as exc:
            if response_started:
                return
            await _answer_cut(send, exc)


async def _answer_cut(send: Send, cut: Exception) -> None:
    status, text = (408, TIMEOUT_MESSAGE) if isinstance(cut, BodyTimeout) else (413, TOO_LARGE_MESSAGE)
    await _plain(send, status, text)


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
