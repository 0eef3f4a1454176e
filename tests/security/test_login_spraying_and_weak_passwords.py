"""Finding 10: failed logins are limited per IP across e-mails (spraying) and per e-mail across IPs;
``X-Forwarded-For`` counts only from a configured proxy; weak passwords are refused."""

from __future__ import annotations

import re

import pytest
from fakes.admin_panel import PASSWORD
from fakes.webapp import FAST_WORKER, runtime_of
from fastapi.testclient import TestClient

from chasqui.accounts import create_user
from chasqui.config import Settings
from chasqui.web.app import create_app
from chasqui.web.auth import MAX_FAILURES, MAX_FAILURES_PER_EMAIL, MAX_FAILURES_PER_IP

VICTIM = "duena@dulcelima.pe"


def _add(client: TestClient, email: str) -> None:
    with runtime_of(client).session() as session:
        create_user(session, email, PASSWORD, "owner", "dulce-lima")


def _login(client: TestClient, email: str, password: str, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    data = {"email": email, "password": password, "csrf_token": token}
    return client.post("/login", data=data, headers=headers).status_code


@pytest.fixture
def behind_proxy(web_settings: Settings):
    """The app behind a trusted reverse proxy (TestClient's peer address is "testclient")."""
    settings = web_settings.model_copy(update={"forwarded_allow_ips": "testclient"})
    with TestClient(create_app(settings, embedded_worker=False, worker_config=FAST_WORKER),
                    follow_redirects=False) as client:
        yield client


def test_one_address_spraying_many_emails_is_stopped(client: TestClient) -> None:
    _add(client, VICTIM)
    for n in range(MAX_FAILURES_PER_IP):
        assert _login(client, f"usuario{n}@dulcelima.pe", "Verano2024") == 401
    assert _login(client, VICTIM, PASSWORD) == 429  # even a right password from that address


def test_one_account_tried_from_many_addresses_is_stopped(behind_proxy: TestClient) -> None:
    _add(behind_proxy, VICTIM)
    for n in range(MAX_FAILURES_PER_EMAIL):
        assert _login(behind_proxy, VICTIM, f"intento-{n}", forwarded_for=f"203.0.113.{n + 1}") == 401
    assert _login(behind_proxy, VICTIM, PASSWORD, forwarded_for="198.51.100.7") == 429


def test_the_client_address_comes_from_a_trusted_proxy_only(behind_proxy: TestClient, client: TestClient) -> None:
    _add(behind_proxy, VICTIM)
    for _ in range(MAX_FAILURES):
        assert _login(behind_proxy, VICTIM, "mala", forwarded_for="203.0.113.1") == 401
    assert _login(behind_proxy, VICTIM, PASSWORD, forwarded_for="203.0.113.1") == 429
    # the owner, at another address behind the same proxy, is not locked out by the attacker
    assert _login(behind_proxy, VICTIM, PASSWORD, forwarded_for="198.51.100.7") == 303
    # without a trusted proxy a forged X-Forwarded-For does not give a fresh address per attempt
    for n in range(MAX_FAILURES):
        assert _login(client, VICTIM, "mala", forwarded_for=f"203.0.113.{n + 1}") == 401
    assert _login(client, VICTIM, PASSWORD, forwarded_for="198.51.100.7") == 429


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("carla@dulcelima.pe", "password123"),
        ("carla@dulcelima.pe", "qwerty123456"),
        ("carla@dulcelima.pe", "dulcelima2024"),  # the user's own e-mail
        ("carla@dulcelima.pe", "Carla12345!"),  # the user's own name
        ("carla@dulcelima.pe", "chasqui2024"),  # the product's name
    ],
)
def test_weak_passwords_are_refused_on_user_creation(client: TestClient, email: str, password: str) -> None:
    with runtime_of(client).session() as session, pytest.raises(ValueError, match="demasiado fácil"):
        create_user(session, email, password, "owner", "dulce-lima", name="Carla")


def test_weak_passwords_are_refused_on_password_change(client: TestClient) -> None:
    _add(client, VICTIM)
    browser = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    assert _login(browser, VICTIM, PASSWORD) == 303
    csrf = re.search(r'data-csrf="([^"]+)"', browser.get("/").text).group(1)
    for weak in ("contraseña123", "duena-dulcelima", "1234567890"):
        data = {"current": PASSWORD, "new": weak, "confirm": weak, "csrf_token": csrf}
        response = browser.post("/account/password", data=data)
        assert response.status_code == 400 and "demasiado fácil de adivinar" in response.text, weak
    strong = "tortas de lúcuma para el jueves"
    data = {"current": PASSWORD, "new": strong, "confirm": strong, "csrf_token": csrf}
    assert browser.post("/account/password", data=data).status_code == 303
