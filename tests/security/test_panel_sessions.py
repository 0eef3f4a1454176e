"""Finding 4: a panel session ends on the server (logout, idle and absolute timeouts, password
change, user disabled); the cookie carries only a random id whose hash alone is stored."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from fakes.admin_panel import PASSWORD
from fakes.webapp import runtime_of
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.accounts import create_user, deactivate_user
from chasqui.db.models import PanelSession, User
from chasqui.db.types import utcnow
from chasqui.web.app import SESSION_COOKIE

EMAIL = "duena@dulcelima.pe"
NEW_PASSWORD = "otra-clave-muy-larga-2024"


class Clock:
    """The session store's clock, moved by hand (no sleeping)."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _add_owner(client: TestClient) -> None:
    with runtime_of(client).session() as session:
        create_user(session, EMAIL, PASSWORD, "owner", "dulce-lima")


def _browser(client: TestClient) -> TestClient:
    return TestClient(client.app, base_url="http://testserver", follow_redirects=False)


def _login(client: TestClient) -> TestClient:
    browser = _browser(client)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text).group(1)
    response = browser.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    return browser


def _csrf(browser: TestClient) -> str:
    return re.search(r'data-csrf="([^"]+)"', browser.get("/").text).group(1)


def _copy_of(browser: TestClient, client: TestClient) -> TestClient:
    """Another machine holding a stolen copy of the session cookie."""
    thief = _browser(client)
    thief.cookies.set(SESSION_COOKIE, browser.cookies[SESSION_COOKIE])
    return thief


def _logged_in(browser: TestClient) -> bool:
    return browser.get("/").status_code == 200


def _clock(client: TestClient) -> Clock:
    clock = Clock()
    client.app.state.chasqui.sessions.clock = clock
    return clock


def test_a_copied_cookie_stops_working_after_logout(client: TestClient) -> None:
    _add_owner(client)
    browser = _login(client)
    thief = _copy_of(browser, client)
    assert _logged_in(thief)  # the copy works while the session is open
    response = browser.post("/logout", data={"csrf_token": _csrf(browser)})
    assert response.status_code == 303
    assert not _logged_in(thief)
    assert thief.get("/").headers["location"] == "/login"


def test_the_cookie_holds_only_a_random_id_and_the_database_only_its_hash(client: TestClient) -> None:
    _add_owner(client)
    browser = _login(client)
    value = browser.cookies[SESSION_COOKIE]
    assert len(value) >= 40 and "." not in value  # not a signed payload with data in it
    with runtime_of(client).session() as session:
        rows = list(session.scalars(select(PanelSession)))
    assert [r.token_hash for r in rows] == [hashlib.sha256(value.encode()).hexdigest()]
    assert value not in str([(r.token_hash, r.data) for r in rows])


def test_a_session_ends_after_the_idle_timeout(client: TestClient) -> None:
    _add_owner(client)
    clock = _clock(client)
    browser = _login(client)
    for _ in range(3):  # used every 25 minutes: still open after 75 minutes
        clock.advance(minutes=25)
        assert _logged_in(browser)
    clock.advance(minutes=31)
    assert not _logged_in(browser)
    clock.advance(minutes=-31)  # the session stays ended even if the clock goes back
    assert not _logged_in(browser)


def test_a_session_ends_after_the_absolute_timeout_even_when_used(client: TestClient) -> None:
    _add_owner(client)
    clock = _clock(client)
    browser = _login(client)
    for _ in range(35):  # used every 20 minutes for 11 h 40 min
        clock.advance(minutes=20)
        assert _logged_in(browser)
    clock.advance(minutes=25)  # 12 h 5 min after the login, used 25 minutes ago
    assert not _logged_in(browser)


def test_a_password_change_ends_the_users_other_sessions(client: TestClient) -> None:
    _add_owner(client)
    office, phone = _login(client), _login(client)
    thief = _copy_of(phone, client)
    data = {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": _csrf(office)}
    assert office.post("/account/password", data=data).status_code == 303
    assert _logged_in(office)  # the browser that changed it stays logged in
    assert not _logged_in(phone) and not _logged_in(thief)
    with runtime_of(client).session() as session:
        rows = session.scalars(select(PanelSession).order_by(PanelSession.id)).all()
        assert [r.revoked_at is None for r in rows] == [True, False]


def test_disabling_a_user_ends_their_sessions_at_once(client: TestClient) -> None:
    _add_owner(client)
    browser = _login(client)
    with runtime_of(client).session() as session:
        deactivate_user(session, session.scalar(select(User).where(User.email == EMAIL)))
        assert session.scalar(select(PanelSession.revoked_at)) is not None
    assert not _logged_in(browser)
