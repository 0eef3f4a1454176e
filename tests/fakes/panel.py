"""Helpers for tests that use the panel as a logged-in user (TestClient)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fakes.webapp import runtime_of
from fastapi.testclient import TestClient
from sqlalchemy import select

from chasqui.accounts import create_user
from chasqui.db.models import Conversation, User

PASSWORD = "clave-segura-123"
OTHER_TENANT = "ferreteria-el-tornillo"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_user(client: TestClient, email: str, role: str = "owner", tenant: str | None = "dulce-lima",
             name: str = "") -> int:
    with runtime_of(client).session() as session:
        user = create_user(session, email, PASSWORD, role, tenant if role != "superadmin" else None, name=name)
        return user.id


def login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    """Log in (as a fresh browser: any previous session is dropped)."""
    client.cookies.clear()
    page = client.get("/login")
    token = _TOKEN.search(page.text).group(1)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.text


def csrf(client: TestClient) -> str:
    """The session's CSRF token, read from a page (the logout form carries it)."""
    page = client.get("/canned")
    match = _TOKEN.search(page.text)
    assert match, "logged-in pages carry the session's CSRF token"
    return match.group(1)


def customer_says(client: TestClient, text: str, phone: str = "51987000001", tenant: str = "dulce-lima",
                  name: str = "Lucía", **kwargs) -> int:
    """A customer message recorded exactly as the webhook records it (not processed by the bot)."""
    runtime = runtime_of(client)
    with runtime.session() as session:
        message = runtime.service(session, tenant).record_customer_message(
            session, phone, text, datetime.now(UTC), name=name, **kwargs
        )
        return message.conversation_id


def conversation(client: TestClient, conversation_id: int) -> Conversation:
    with runtime_of(client).session() as session:
        row = session.get(Conversation, conversation_id)
        session.expunge(row)
        return row


def user_id(client: TestClient, email: str) -> int:
    with runtime_of(client).session() as session:
        return session.scalar(select(User.id).where(User.email == email))
