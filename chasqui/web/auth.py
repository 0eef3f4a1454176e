"""Panel login (CONTRACT §6): form, session cookie, CSRF, rate limit, the current user.

* The session is a signed cookie (Starlette ``SessionMiddleware``, itsdangerous, the secret key):
  HttpOnly, SameSite=Lax. It holds the user id, a fingerprint of the password hash (changing the
  password ends every old session) and the session's CSRF token. Nothing is stored in it before a
  successful login, so a wrong login sets no cookie.
* The login form carries a signed, time-limited CSRF token (no cookie needed) and a POST whose
  ``Origin`` names another site is refused; forms after login use the session's token.
* Failed logins are limited per client IP + e-mail (``MAX_FAILURES`` per ``WINDOW_S``), in process.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chasqui.accounts import (
    authenticate,
    normalize_email,
    password_fingerprint,
    user_tenants,
    uses_one_time_password,
)
from chasqui.db.models import User

router = APIRouter()


class SecureSessionCookie:
    """ASGI middleware around ``SessionMiddleware``: marks the session cookie ``Secure`` when the
    request came over TLS (an https scheme, or ``X-Forwarded-Proto: https`` with ``trust_proxy``)."""

    def __init__(self, app: ASGIApp, cookie_name: str, trust_proxy: bool = False) -> None:
        self.app, self.prefix, self.trust_proxy = app, f"{cookie_name}=".encode(), trust_proxy

    def _over_tls(self, scope: Scope) -> bool:
        if scope.get("scheme") in ("https", "wss"):
            return True
        if not self.trust_proxy:
            return False
        forwarded = dict(scope.get("headers") or []).get(b"x-forwarded-proto", b"")
        return forwarded.split(b",")[0].strip().lower() == b"https"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._over_tls(scope):
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (k, v + b"; secure")
                    if k.lower() == b"set-cookie" and v.startswith(self.prefix) and b"secure" not in v.lower()
                    else (k, v)
                    for k, v in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, send_secure)

MAX_FAILURES = 10
WINDOW_S = 300.0
LOGIN_TOKEN_MAX_AGE_S = 2 * 3600


class LoginLimiter:
    """Failed attempts per key within a sliding window (thread-safe, in memory)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S) -> None:
        self.max_failures, self.window_s = max_failures, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and now - failures[0] > self.window_s:
            failures.popleft()
        return failures

    def blocked(self, key: str, now: float | None = None) -> bool:
        with self._lock:
            return len(self._recent(key, time.monotonic() if now is None else now)) >= self.max_failures

    def fail(self, key: str, now: float | None = None) -> None:
        with self._lock:
            self._recent(key, time.monotonic() if now is None else now).append(
                time.monotonic() if now is None else now
            )
            if len(self._failures) > 10_000:  # forget idle keys
                for stale in [k for k, v in self._failures.items() if not v]:
                    del self._failures[stale]

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


@dataclass(frozen=True)
class TenantAccess:
    id: int
    slug: str
    name: str
    role: str


@dataclass(frozen=True)
class PanelUser:
    id: int
    email: str
    is_superadmin: bool
    tenants: tuple[TenantAccess, ...]
    tenant: TenantAccess | None  # the tenant the panel shows now
    must_change_password: bool = False  # still the one-time password printed at the first start

    def can_see(self, tenant_id: int) -> bool:
        return any(t.id == tenant_id for t in self.tenants)


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.chasqui.settings.secret(), salt="chasqui-login-form")


def login_token(request: Request) -> str:
    return _serializer(request).dumps(secrets.token_urlsafe(8))


def valid_login_token(request: Request, token: str) -> bool:
    try:
        _serializer(request).loads(token, max_age=LOGIN_TOKEN_MAX_AGE_S)
    except BadSignature:
        return False
    return True


def same_origin(request: Request) -> bool:
    """False when the browser says the form was posted from another site."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def session_csrf(request: Request) -> str:
    return str(request.session.get("csrf", ""))


def check_session_csrf(request: Request, token: str) -> bool:
    expected = session_csrf(request)
    return bool(expected) and secrets.compare_digest(expected, token or "")


def load_panel_user(session: Session, request: Request) -> PanelUser | None:
    """The logged-in user of this request (None: not logged in, deactivated or password changed)."""
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        return None
    user = session.get(User, uid)
    if user is None or not user.active or request.session.get("pwf") != password_fingerprint(user):
        return None
    tenants = tuple(TenantAccess(t.id, t.slug, t.name, role) for t, role in user_tenants(session, user))
    wanted = request.session.get("tid")
    current = next((t for t in tenants if t.id == wanted), tenants[0] if tenants else None)
    must_change = uses_one_time_password(session, user)
    return PanelUser(user.id, user.email, user.is_superadmin, tenants, current, must_change)


def _client_key(request: Request, email: str) -> str:
    host = request.client.host if request.client else "?"
    return f"{host}|{normalize_email(email)}"


def _login_page(
    request: Request, *, error: str | None = None, email: str = "", status_code: int = 200
) -> Response:
    templates = request.app.state.chasqui.templates
    return templates.TemplateResponse(
        request,
        "login.html",
        {"csrf_token": login_token(request), "error": error, "email": email},
        status_code=status_code,
    )


@router.get("/login")
def login_form(request: Request) -> Response:
    with request.app.state.chasqui.runtime.session() as session:
        if load_panel_user(session, request) is not None:
            return RedirectResponse("/", status_code=303)
    return _login_page(request)


@router.post("/login")
def login(
    request: Request, email: str = Form(""), password: str = Form(""), csrf_token: str = Form("")
) -> Response:
    state = request.app.state.chasqui
    if not same_origin(request) or not valid_login_token(request, csrf_token):
        return _login_page(
            request,
            error="El formulario expiró o no es válido. Vuelve a intentarlo.",
            email=email,
            status_code=400,
        )
    key = _client_key(request, email)
    if state.login_limiter.blocked(key):
        return _login_page(
            request,
            error="Demasiados intentos fallidos. Espera unos minutos y vuelve a intentarlo.",
            email=email,
            status_code=429,
        )
    next_page = "/"
    with state.runtime.session() as session:
        user = authenticate(session, email, password) if email and password else None
        if user is not None:
            if uses_one_time_password(session, user):
                next_page = "/account/password"
            tenants = user_tenants(session, user)
            request.session.clear()
            request.session.update(
                {
                    "uid": user.id,
                    "pwf": password_fingerprint(user),
                    "csrf": secrets.token_urlsafe(24),
                    "tid": tenants[0][0].id if tenants else None,
                }
            )
    if user is None:
        state.login_limiter.fail(key)
        return _login_page(request, error="Correo o contraseña incorrectos.", email=email, status_code=401)
    state.login_limiter.reset(key)
    return RedirectResponse(next_page, status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    if check_session_csrf(request, csrf_token):
        request.session.clear()
    return RedirectResponse("/login", status_code=303)
