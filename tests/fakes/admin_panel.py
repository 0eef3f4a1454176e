"""Helpers for the admin-panel tests (tests/web/admin): log in as a user of a role and tenant, post forms
with CSRF, count audit rows.

Every ``login_as`` returns its own ``TestClient`` (own cookies) on the same running app, so one
test can act as users of two tenants or two roles at once.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from fakes.webapp import runtime_of
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chasqui.accounts import create_user
from chasqui.db.models import AuditLog, Order, OutboxMessage

PASSWORD = "clave-segura-123"
_counter = itertools.count(1)


class Panel:
    """A logged-in browser: ``get``/``post`` with the session's CSRF token added to forms."""

    def __init__(self, client: TestClient, email: str) -> None:
        self.client, self.email = client, email
        self._csrf: str | None = None

    @property
    def csrf(self) -> str:
        if self._csrf is None:
            page = self.client.get("/")
            match = re.search(r'data-csrf="([^"]+)"', page.text) or re.search(
                r'name="csrf_token" value="([^"]+)"', page.text
            )
            assert match, "a logged-in page carries the session's CSRF token"
            self._csrf = match.group(1)
        return self._csrf

    def get(self, url: str, **kwargs: Any):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any):
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)


def login_as(client: TestClient, role: str = "owner", tenant: str | None = "dulce-lima") -> Panel:
    """A new browser logged in as a new user of ``role`` in ``tenant`` (the superadmin switched to it)."""
    email = f"{role}{next(_counter)}@{tenant or 'plataforma'}.pe"
    with runtime_of(client).session() as session:
        create_user(session, email, PASSWORD, role, None if role == "superadmin" else tenant)
    browser = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    page = browser.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = browser.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text
    if role == "superadmin" and tenant:
        browser.get(f"/?tenant={tenant}")
    return Panel(browser, email)


def audit_count(client: TestClient, action: str | None = None) -> int:
    with runtime_of(client).session() as session:
        query = select(func.count(AuditLog.id))
        if action:
            query = query.where(AuditLog.action == action)
        return int(session.scalar(query) or 0)


def flash_follow(panel: Panel, response) -> str:
    """The page a redirect leads to (where the flash message is shown)."""
    assert response.status_code == 303, response.text[:500]
    return panel.get(response.headers["location"]).text


def customer_texts(client, order_id: int) -> list[str]:
    """The texts queued to the customer of an order's conversation, in order."""
    with runtime_of(client).session() as session:
        order = session.get(Order, order_id)
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.conversation_id == order.conversation_id))
        return [row.payload.get("text", {}).get("body", "") for row in rows]
