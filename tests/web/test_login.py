"""Panel login (CONTRACT §6), the session cookie, and tenant isolation of panel pages."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import pytest
from fakes.webapp import runtime_of
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.accounts import create_user, verify_password
from chasqui.db.models import User
from chasqui.web.app import SESSION_COOKIE
from chasqui.web.auth import MAX_FAILURES

PASSWORD = "clave-segura-123"


def add_user(client: TestClient, email: str, role: str = "owner", tenant: str | None = "dulce-lima") -> None:
    with runtime_of(client).session() as session:
        create_user(session, email, PASSWORD, role, tenant if role != "superadmin" else None)


def add_conversation(client: TestClient, tenant: str, phone: str, text: str) -> int:
    runtime = runtime_of(client)
    with runtime.session() as session:
        service = runtime.service(session, tenant)
        message = service.record_customer_message(session, phone, text, datetime.now(UTC), name="Cliente")
        return message.conversation_id


def form_token(client: TestClient) -> str:
    page = client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "the login form carries a CSRF token"
    return match.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD, **extra: str):
    data = {"email": email, "password": password, "csrf_token": form_token(client)} | extra
    return client.post("/login", data=data)


def test_the_login_form_is_spanish_and_has_the_fields(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200 and page.template.name == "login.html"
    for field in ('name="email"', 'name="password"', 'name="csrf_token"', 'type="password"'):
        assert field in page.text
    assert "Contraseña" in page.text and 'lang="es"' in page.text
    assert SESSION_COOKIE not in page.headers.get("set-cookie", "")


def test_a_correct_login_sets_an_httponly_lax_session_cookie_and_redirects(client: TestClient) -> None:
    add_user(client, "Duena@DulceLima.pe")
    response = login(client, "duena@dulcelima.pe")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert (
        cookie.startswith(f"{SESSION_COOKIE}=")
        and "httponly" in cookie.lower()
        and "samesite=lax" in cookie.lower()
    )
    home = client.get("/")
    assert home.status_code == 200 and home.template.name == "inbox.html"
    assert "duena@dulcelima.pe" in home.text


def test_a_wrong_login_sets_no_cookie(client: TestClient) -> None:
    add_user(client, "duena@dulcelima.pe")
    for email, password in [("duena@dulcelima.pe", "otra-clave"), ("nadie@dulcelima.pe", PASSWORD)]:
        response = login(client, email, password)
        assert response.status_code == 401 and "set-cookie" not in response.headers
        assert "incorrectos" in response.text
    assert client.get("/").status_code == 303


def test_login_needs_the_forms_token_and_same_origin(client: TestClient) -> None:
    add_user(client, "duena@dulcelima.pe")
    no_token = client.post("/login", data={"email": "duena@dulcelima.pe", "password": PASSWORD})
    assert no_token.status_code == 400 and "set-cookie" not in no_token.headers
    forged = client.post(
        "/login", data={"email": "duena@dulcelima.pe", "password": PASSWORD, "csrf_token": "x.y.z"}
    )
    assert forged.status_code == 400
    cross_site = client.post(
        "/login",
        headers={"Origin": "https://evil.example"},
        data={"email": "duena@dulcelima.pe", "password": PASSWORD, "csrf_token": form_token(client)},
    )
    assert cross_site.status_code == 400 and "set-cookie" not in cross_site.headers


def test_repeated_failures_are_rate_limited(client: TestClient) -> None:
    add_user(client, "duena@dulcelima.pe")
    for _ in range(MAX_FAILURES):
        assert login(client, "duena@dulcelima.pe", "mala").status_code == 401
    blocked = login(client, "duena@dulcelima.pe")  # even the right password waits now
    assert blocked.status_code == 429 and "set-cookie" not in blocked.headers
    add_user(client, "otra@dulcelima.pe")
    assert login(client, "otra@dulcelima.pe").status_code == 303  # other accounts are not blocked


def test_not_logged_in_pages_redirect_to_login(client: TestClient) -> None:
    conversation = add_conversation(client, "dulce-lima", "51987000001", "hola")
    for path in ("/", f"/conversations/{conversation}"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/login"


def test_the_inbox_lists_the_tenants_conversations_latest_first(client: TestClient) -> None:
    add_conversation(client, "dulce-lima", "51987000001", "hola, tienen tortas?")
    add_conversation(client, "dulce-lima", "51987000002", "cuánto cuesta el pie de limón?")
    add_conversation(client, "ferreteria-el-tornillo", "51987000003", "tienen tornillos?")
    add_user(client, "duena@dulcelima.pe")
    login(client, "duena@dulcelima.pe")
    page = client.get("/")
    texts = [c.last_text for c in page.context["conversations"]]
    assert texts == ["cuánto cuesta el pie de limón?", "hola, tienen tortas?"]
    assert "tornillos" not in page.text


def test_a_user_of_another_tenant_gets_404(make_client) -> None:
    owner_a, owner_b = make_client(), make_client()
    conversation = add_conversation(owner_a, "dulce-lima", "51987000001", "hola")
    add_user(owner_a, "duena@dulcelima.pe", tenant="dulce-lima")
    add_user(owner_a, "dueno@ferreteria.pe", role="agent", tenant="ferreteria-el-tornillo")
    login(owner_a, "duena@dulcelima.pe")
    login(owner_b, "dueno@ferreteria.pe")
    assert owner_a.get(f"/conversations/{conversation}").status_code == 200
    assert owner_b.get(f"/conversations/{conversation}").status_code == 404
    assert owner_b.get("/?tenant=dulce-lima").status_code == 404
    assert owner_b.get("/conversations/999999").status_code == 404


def test_logout_ends_the_session(client: TestClient) -> None:
    add_user(client, "duena@dulcelima.pe")
    login(client, "duena@dulcelima.pe")
    page = client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/").status_code == 303


def test_a_legacy_sha256_password_logs_in_and_is_upgraded(client: TestClient) -> None:
    add_user(client, "antigua@dulcelima.pe")
    with runtime_of(client).session() as session:
        user = session.scalar(select(User).where(User.email == "antigua@dulcelima.pe"))
        user.password_hash = hashlib.sha256(b"clave-del-sistema-viejo").hexdigest()
    assert login(client, "antigua@dulcelima.pe", "clave-del-sistema-viejo").status_code == 303
    with runtime_of(client).session() as session:
        user = session.scalar(select(User).where(User.email == "antigua@dulcelima.pe"))
        assert user.password_hash.startswith("$argon2")
        assert verify_password(user, "clave-del-sistema-viejo") and not verify_password(user, "otra")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x@y.pe", PASSWORD, "owner", None), "needs a tenant"),
        (("x@y.pe", PASSWORD, "superadmin", "dulce-lima"), "belongs to no tenant"),
        (("x@y.pe", PASSWORD, "jefe", "dulce-lima"), "unknown role"),
        (("x@y.pe", "corta", "owner", "dulce-lima"), "at least 8"),
        (("no-es-correo", PASSWORD, "owner", "dulce-lima"), "not a valid e-mail"),
        (("x@y.pe", PASSWORD, "agent", "no-existe"), "unknown tenant"),
    ],
)
def test_create_user_refuses_mistakes_with_a_clear_message(
    client: TestClient, args: tuple, message: str
) -> None:
    with runtime_of(client).session() as session, pytest.raises(ValueError, match=message):
        create_user(session, *args)


def test_create_user_refuses_a_duplicate_email(client: TestClient) -> None:
    add_user(client, "duena@dulcelima.pe")
    with runtime_of(client).session() as session, pytest.raises(ValueError, match="already exists"):
        create_user(session, "DUENA@dulcelima.pe", PASSWORD, "admin", "dulce-lima")
