"""The security tests drive the real web app: the fixtures of ``tests/web/conftest.py`` (the demo
and a second tenant on a throwaway SQLite copy, the fake Graph API, ``client``, ``make_client``,
cheap password hashing) and ``login_as`` of ``tests/web/admin``, shared here without copying."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest
from fakes.admin_panel import Panel
from fakes.admin_panel import login_as as _login_as
from fastapi.testclient import TestClient

_WEB_CONFTEST = Path(__file__).resolve().parents[1] / "web" / "conftest.py"
_spec = importlib.util.spec_from_file_location("security_web_fixtures", _WEB_CONFTEST)
assert _spec is not None and _spec.loader is not None
_web = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_web)

template_db = _web.template_db
fake_graph = _web.fake_graph
web_settings = _web.web_settings
make_client = _web.make_client
client = _web.client
live_client = _web.live_client
_cheap_password_hashing = _web._cheap_password_hashing


@pytest.fixture
def login_as(client: TestClient) -> Callable[..., Panel]:
    def login(role: str = "owner", tenant: str | None = "dulce-lima") -> Panel:
        return _login_as(client, role, tenant)

    return login
