"""``/webhook``: Meta's verification handshake and the WhatsApp notifications (CONTRACT §7).

The POST handler reads at most ``MAX_BODY_BYTES`` of raw bytes, hands them to
``chasqui.whatsapp.ingest`` (signature check + one transaction) in a worker thread, answers, and
only then signals the worker for the conversations that got new messages (the in-process queue in
embedded mode, a Redis job per conversation in distributed mode; a failed signal is only logged:
the message is already committed and the worker's sweep finds it).
"""

from __future__ import annotations

import hmac
import logging

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from chasqui.crypto import DecryptionError, decrypt, keyed_hash
from chasqui.db.models import Tenant
from chasqui.whatsapp.ingest import ingest
from chasqui.worker.queue import signal_all

log = logging.getLogger(__name__)
router = APIRouter()

MAX_BODY_BYTES = 1024 * 1024
# Webhook transactions at once per process. SQLite has one writer: more threads only wait on its
# lock (sleeping in steps up to 100 ms) while holding pool connections the worker needs.
INGEST_CONCURRENCY = {"sqlite": 1}
DEFAULT_INGEST_CONCURRENCY = 8
_limiters: dict[int, anyio.CapacityLimiter] = {}


def _limiter(request: Request) -> anyio.CapacityLimiter:
    state = request.app.state.chasqui
    key = id(state)
    limiter = _limiters.get(key)
    if limiter is None:
        backend = state.runtime.db.dialect.name
        limiter = _limiters[key] = anyio.CapacityLimiter(INGEST_CONCURRENCY.get(backend, DEFAULT_INGEST_CONCURRENCY))
    return limiter


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _verify_token_known(request: Request, token: str) -> bool:
    """Some tenant has this verify token (stored encrypted; found by its keyed hash)."""
    runtime = request.app.state.chasqui.runtime
    secret_key = runtime.settings.secret()
    with runtime.session() as session:
        for encrypted in session.scalars(
            select(Tenant.verify_token_encrypted).where(Tenant.verify_token_hash == keyed_hash(token, secret_key))
        ):
            try:
                if encrypted and hmac.compare_digest(decrypt(encrypted, secret_key), token):
                    return True
            except DecryptionError:
                log.error("webhook: a stored verify token cannot be decrypted")
    return False


@router.get("/webhook")
async def verify_subscription(request: Request) -> Response:
    params = request.query_params
    mode, token, challenge = (
        params.get("hub.mode"),
        params.get("hub.verify_token"),
        params.get("hub.challenge"),
    )
    if (
        mode == "subscribe"
        and token
        and challenge is not None
        and await run_in_threadpool(_verify_token_known, request, token)
    ):
        return PlainTextResponse(challenge)
    return PlainTextResponse("forbidden", status_code=403)


@router.post("/webhook")
async def receive(request: Request) -> Response:
    state = request.app.state.chasqui
    try:
        raw = await read_limited(request)
    except BodyTooLarge:
        return PlainTextResponse("payload too large", status_code=413)
    signature = request.headers.get("x-hub-signature-256")
    result = await anyio.to_thread.run_sync(ingest, state.runtime, raw, signature, limiter=_limiter(request))
    if result.status != 200:
        return PlainTextResponse(result.detail, status_code=result.status)
    await signal_all(state.queue, result.conversations)
    return PlainTextResponse("ok")
