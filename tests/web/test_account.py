"""The user's own password (/account/password), the one-time password of the first start, and the
session cookie's Secure flag behind TLS."""

from __future__ import annotations

import re

import pytest
from fakes.webapp import FAST_WORKER, runtime_of
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.accounts import create_user, mark_one_time_password, verify_password
from chasqui.config import Settings
from chasqui.db.models import User
from chasqui.web.app import SESSION_COOKIE, create_app

EMAIL = "admin@dulcelima.pe"
ONE_TIME = "temporal-123"
NEW = "mi-clave-nueva-2024"


def _browser(client: TestClient, base_url: str = "http://testserver") -> TestClient:
    return TestClient(client.app, base_url=base_url, follow_redirects=False)


def _login(browser: TestClient, password: str, **headers: str):
    page = browser.get("/login", headers=headers)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    data = {"email": EMAIL, "password": password, "csrf_token": token}
    return browser.post("/login", data=data, headers=headers)


def _add_admin(client: TestClient, one_time: bool = True) -> None:
    with runtime_of(client).session() as session:
        user = create_user(session, EMAIL, ONE_TIME, "owner", "dulce-lima")
        if one_time:
            mark_one_time_password(session, user)


def _csrf(browser: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/account/password").text).group(1)


def _stored_user(client: TestClient) -> User:
    with runtime_of(client).session() as session:
        user = session.scalar(select(User).where(User.email == EMAIL))
        session.expunge(user)
        return user


def test_the_one_time_password_leads_to_the_change_page_until_changed(client: TestClient) -> None:
    _add_admin(client)
    browser = _browser(client)
    response = _login(browser, ONE_TIME)
    assert response.status_code == 303 and response.headers["location"] == "/account/password"
    form = browser.get("/account/password")
    assert form.status_code == 200 and "Cambiar contraseña" in form.text
    assert 'id="password-banner"' in browser.get("/").text  # every page asks for it

    change = {"current": ONE_TIME, "new": NEW, "confirm": NEW, "csrf_token": _csrf(browser)}
    done = browser.post("/account/password", data=change)
    assert done.status_code == 303 and done.headers["location"] == "/"
    home = browser.get("/")  # this session goes on, without the banner
    assert home.status_code == 200 and "Contraseña actualizada." in home.text
    assert 'id="password-banner"' not in home.text

    user = _stored_user(client)
    assert user.password_hash.startswith("$argon2") and verify_password(user, NEW)
    assert _login(_browser(client), ONE_TIME).status_code == 401
    again = _login(_browser(client), NEW)
    assert again.status_code == 303 and again.headers["location"] == "/"


def test_a_user_with_their_own_password_sees_no_banner(client: TestClient) -> None:
    _add_admin(client, one_time=False)
    browser = _browser(client)
    assert _login(browser, ONE_TIME).headers["location"] == "/"
    assert 'id="password-banner"' not in browser.get("/").text


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("otra-clave-xyz", NEW, NEW, "La contraseña actual no es correcta."),
        (ONE_TIME, "corta-123", "corta-123", "al menos 10 caracteres"),
        (ONE_TIME, NEW, NEW + "x", "La confirmación no coincide"),
        (ONE_TIME, "", "", "al menos 10 caracteres"),
        (ONE_TIME, "x" * 201, "x" * 201, "demasiado larga"),
    ],
)
def test_bad_input_changes_nothing_and_says_why(client: TestClient, current, new, confirm, message) -> None:
    _add_admin(client)
    browser = _browser(client)
    _login(browser, ONE_TIME)
    before = _stored_user(client).password_hash
    data = {"current": current, "new": new, "confirm": confirm, "csrf_token": _csrf(browser)}
    response = browser.post("/account/password", data=data)
    assert response.status_code == 400 and message in response.text
    assert _stored_user(client).password_hash == before
    assert 'id="password-banner"' in browser.get("/").text


def test_the_form_needs_the_sessions_csrf_token_and_a_login(client: TestClient) -> None:
    _add_admin(client)
    assert _browser(client).get("/account/password").headers["location"] == "/login"
    browser = _browser(client)
    _login(browser, ONE_TIME)
    data = {"current": ONE_TIME, "new": NEW, "confirm": NEW, "csrf_token": "falso"}
    assert browser.post("/account/password", data=data).status_code == 403
    assert verify_password(_stored_user(client), ONE_TIME)


def _session_cookie(response) -> str:
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE)]
    assert len(cookies) == 1
    return cookies[0].lower()


def test_the_session_cookie_is_secure_over_https_only(client: TestClient) -> None:
    _add_admin(client, one_time=False)
    assert "secure" not in _session_cookie(_login(_browser(client), ONE_TIME))
    cookie = _session_cookie(_login(_browser(client, "https://testserver"), ONE_TIME))
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    # a client cannot claim TLS by itself: the proxy header counts only when the proxy is trusted
    forged = _login(_browser(client), ONE_TIME, **{"X-Forwarded-Proto": "https"})
    assert "secure" not in _session_cookie(forged)


def test_behind_a_trusted_proxy_x_forwarded_proto_https_makes_it_secure(web_settings: Settings) -> None:
    # TestClient's peer address is "testclient": configured here as the trusted proxy
    settings = web_settings.model_copy(update={"forwarded_allow_ips": "testclient"})
    with TestClient(create_app(settings, embedded_worker=False, worker_config=FAST_WORKER)) as client:
        _add_admin(client, one_time=False)
        proxied = _login(_browser(client), ONE_TIME, **{"X-Forwarded-Proto": "https"})
        assert proxied.status_code == 303 and "secure" in _session_cookie(proxied)
        assert "secure" not in _session_cookie(_login(_browser(client), ONE_TIME, **{"X-Forwarded-Proto": "http"}))
