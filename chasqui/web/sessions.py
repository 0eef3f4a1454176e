"""Server-side panel sessions (OWASP ASVS 3.3): the cookie carries only a random session id.

* ``ServerSessionMiddleware`` puts a ``SessionData`` dict in ``request.session`` (the same API as
  Starlette's signed-cookie sessions). Its content (user id, CSRF token, current tenant, a flash
  message) lives in the ``panel_sessions`` row found by the SHA-256 of the cookie's id.
* A row is valid while not revoked, used within the idle timeout and younger than the absolute
  timeout (``Settings.session_idle_timeout_s`` / ``session_absolute_timeout_s``) and while its user
  is active. Anything else: an empty session and the cookie is deleted.
* ``begin_session`` (login) makes a fresh row and id (no fixation), ``end_session`` (logout)
  revokes it; a password change or a disabled user revokes the user's rows (``chasqui.accounts``).
* Nothing is stored for a visitor who is not logged in.
"""

from __future__ import annotations

import copy
import hashlib
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from anyio import to_thread
from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chasqui.db.models import PanelSession, User
from chasqui.db.types import utcnow

SESSION_COOKIE = "chasqui_session"
TOUCH_INTERVAL_S = 60  # last_seen_at is written at most this often per session
# Paths that never use the panel session (machines, files): no database work for them.
SESSIONLESS_PREFIXES = ("/static/", "/health", "/webhook")


class SessionData(dict[str, Any]):
    """``request.session``: a plain dict plus what the middleware must do with it."""

    def __init__(self, data: dict[str, Any] | None = None, row_id: int | None = None) -> None:
        super().__init__(data or {})
        self.row_id = row_id
        self.started = False
        self.ended = False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _session_of(request: Request) -> SessionData:
    session = request.session
    if not isinstance(session, SessionData):
        raise RuntimeError("ServerSessionMiddleware is not installed")
    return session


def begin_session(request: Request, user_id: int, tenant_id: int | None) -> None:
    """Log ``user_id`` in: a new session (new id, new CSRF token) replaces this browser's one."""
    session = _session_of(request)
    session.clear()
    session.update({"uid": user_id, "csrf": secrets.token_urlsafe(24), "tid": tenant_id})
    session.started, session.ended = True, False


def end_session(request: Request) -> None:
    """Log out: the session is revoked on the server, so a copy of the cookie is useless."""
    session = _session_of(request)
    session.clear()
    session.started, session.ended = False, True


def current_session_id(request: Request) -> int | None:
    """The ``panel_sessions`` row of this request (None: not logged in)."""
    session = request.scope.get("session")
    return session.row_id if isinstance(session, SessionData) else None


@dataclass
class SessionStore:
    """The ``panel_sessions`` table. ``clock`` is the time every expiry is measured with."""

    transaction: Callable[[], AbstractContextManager[Session]]
    idle_timeout: timedelta
    absolute_timeout: timedelta
    clock: Callable[[], datetime] = field(default=utcnow)

    def load(self, token: str) -> tuple[int, dict[str, Any]] | None:
        """The valid session for this cookie value, as (row id, data); None otherwise."""
        now = self.clock()
        with self.transaction() as session:
            row = session.scalar(select(PanelSession).where(PanelSession.token_hash == token_hash(token)))
            if row is None or row.revoked_at is not None:
                return None
            user = session.get(User, row.user_id)
            if user is None or not user.active or self._expired(row, now):
                row.revoked_at = now
                return None
            if now - row.last_seen_at >= timedelta(seconds=TOUCH_INTERVAL_S):
                row.last_seen_at = now
            return row.id, {**(row.data or {}), "uid": row.user_id}

    def _expired(self, row: PanelSession, now: datetime) -> bool:
        return now - row.last_seen_at > self.idle_timeout or now - row.created_at > self.absolute_timeout

    def create(self, data: dict[str, Any], ip: str, user_agent: str) -> tuple[int, str]:
        """A new session row for ``data["uid"]``; (row id, the cookie value)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self.transaction() as session:
            row = PanelSession(
                token_hash=token_hash(token),
                user_id=int(data["uid"]),
                tenant_id=_tenant_of(data),
                data=_stored(data),
                ip=ip[:45],
                user_agent=user_agent[:255],
                created_at=now,
                last_seen_at=now,
            )
            session.add(row)
            session.flush()
            return row.id, token

    def save(self, row_id: int, data: dict[str, Any]) -> None:
        with self.transaction() as session:
            row = session.get(PanelSession, row_id)
            if row is not None and row.revoked_at is None:
                row.data, row.tenant_id = _stored(data), _tenant_of(data)

    def revoke(self, row_id: int) -> None:
        with self.transaction() as session:
            row = session.get(PanelSession, row_id)
            if row is not None and row.revoked_at is None:
                row.revoked_at = self.clock()


def _stored(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "uid"}


def _tenant_of(data: dict[str, Any]) -> int | None:
    tenant = data.get("tid")
    return tenant if isinstance(tenant, int) else None


class ServerSessionMiddleware:
    """ASGI middleware: ``request.session`` backed by ``SessionStore`` (``store_of(scope)``)."""

    def __init__(self, app: ASGIApp, store_of: Callable[[Scope], SessionStore | None]) -> None:
        self.app, self.store_of = app, store_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        store = self.store_of(scope)
        token = _cookie(scope)
        if store is None or scope["path"].startswith(SESSIONLESS_PREFIXES):
            scope["session"] = SessionData()
            await self.app(scope, receive, send)
            return
        loaded = await to_thread.run_sync(store.load, token) if token else None
        session = SessionData(loaded[1], loaded[0]) if loaded else SessionData()
        snapshot = copy.deepcopy(dict(session))
        scope["session"] = session
        stale_cookie = bool(token) and loaded is None

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                header = await to_thread.run_sync(self._commit, store, scope, session, snapshot, stale_cookie)
                if header:
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"], (b"set-cookie", header.encode("latin-1"))]
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _commit(
        self, store: SessionStore, scope: Scope, session: SessionData, snapshot: dict[str, Any], stale: bool
    ) -> str | None:
        """Write what the request changed; the Set-Cookie header value to send, if any."""
        if session.started:
            if session.row_id is not None:
                store.revoke(session.row_id)
            session.row_id, token = store.create(dict(session), _client_ip(scope), _header(scope, b"user-agent"))
            return _set_cookie(token, int(store.absolute_timeout.total_seconds()), _over_tls(scope))
        if session.row_id is not None and (session.ended or not session):
            store.revoke(session.row_id)
            return _set_cookie("", 0, _over_tls(scope))
        if session.row_id is not None and dict(session) != snapshot:
            store.save(session.row_id, dict(session))
        if stale or session.ended:
            return _set_cookie("", 0, _over_tls(scope))
        return None


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _cookie(scope: Scope) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    return cookie_parser(raw).get(SESSION_COOKIE) or None


def _client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def _over_tls(scope: Scope) -> bool:
    """https as seen after ``ProxyHeadersMiddleware`` (which believes only the configured proxies)."""
    return scope.get("scheme") in ("https", "wss")


def _set_cookie(value: str, max_age: int, secure: bool) -> str:
    parts = [f"{SESSION_COOKIE}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Lax"]
    if max_age == 0:
        parts.append("Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)
