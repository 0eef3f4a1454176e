"""Panel login (CONTRACT §6): form, session, CSRF, rate limit, the current user.

* The session is server-side (``chasqui.web.sessions``): the HttpOnly, SameSite=Lax cookie holds
  only a random id; logout, a password change or disabling the user revokes it on the server.
  Nothing is stored before a successful login, so a wrong login sets no cookie.
* The login form carries a signed, time-limited CSRF token (no cookie needed) and a POST whose
  ``Origin`` names another site is refused; forms after login use the session's token.
* Failed logins are limited per client IP + e-mail, per client IP across e-mails (spraying) and per
  e-mail across IPs (``LoginThrottle``, in process). The client IP is the proxy's
  ``X-Forwarded-For`` only when the peer is a configured proxy (``Settings.forwarded_allow_ips``).
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

from chasqui.accounts import authenticate, normalize_email, user_tenants, uses_one_time_password
from chasqui.db.models import User
from chasqui.web.sessions import begin_session, end_session

router = APIRouter()


MAX_FAILURES = 10  # per client IP + e-mail
WINDOW_S = 300.0
MAX_FAILURES_PER_IP = 30  # one address trying many e-mails (password spraying)
MAX_FAILURES_PER_EMAIL = 50  # one account tried from many addresses
SPRAY_WINDOW_S = 900.0
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


class LoginThrottle:
    """Failed logins counted three ways; any exhausted count refuses the next attempt.

    A success clears only its IP + e-mail count: a sprayer who knows one password cannot reset
    the per-IP count with it."""

    def __init__(self) -> None:
        self.pair = LoginLimiter(MAX_FAILURES, WINDOW_S)
        self.per_ip = LoginLimiter(MAX_FAILURES_PER_IP, SPRAY_WINDOW_S)
        self.per_email = LoginLimiter(MAX_FAILURES_PER_EMAIL, SPRAY_WINDOW_S)

    @staticmethod
    def _keys(ip: str, email: str) -> tuple[str, str, str]:
        email = normalize_email(email)
        return f"{ip}|{email}", ip, email

    def blocked(self, ip: str, email: str) -> bool:
        pair, ip_key, email_key = self._keys(ip, email)
        return self.pair.blocked(pair) or self.per_ip.blocked(ip_key) or self.per_email.blocked(email_key)

    def fail(self, ip: str, email: str) -> None:
        pair, ip_key, email_key = self._keys(ip, email)
        self.pair.fail(pair)
        self.per_ip.fail(ip_key)
        self.per_email.fail(email_key)

    def succeeded(self, ip: str, email: str) -> None:
        self.pair.reset(self._keys(ip, email)[0])


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
    """The logged-in user of this request (None: not logged in, session ended, user deactivated)."""
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        return None
    user = session.get(User, uid)
    if user is None or not user.active:
        return None
    tenants = tuple(TenantAccess(t.id, t.slug, t.name, role) for t, role in user_tenants(session, user))
    wanted = request.session.get("tid")
    current = next((t for t in tenants if t.id == wanted), tenants[0] if tenants else None)
    must_change = uses_one_time_password(session, user)
    return PanelUser(user.id, user.email, user.is_superadmin, tenants, current, must_change)


def client_ip(request: Request) -> str:
    """The client's address (a configured proxy's ``X-Forwarded-For`` already applied)."""
    return request.client.host if request.client else "?"


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
    ip = client_ip(request)
    if state.login_throttle.blocked(ip, email):
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
            begin_session(request, user.id, tenants[0][0].id if tenants else None)
    if user is None:
        state.login_throttle.fail(ip, email)
        return _login_page(request, error="Correo o contraseña incorrectos.", email=email, status_code=401)
    state.login_throttle.succeeded(ip, email)
    return RedirectResponse(next_page, status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    if check_session_csrf(request, csrf_token):
        end_session(request)  # revoked on the server: a copy of the cookie no longer works
    return RedirectResponse("/login", status_code=303)
