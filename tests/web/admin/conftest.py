"""The ``login_as(role, tenant)`` fixture of the admin-panel tests (helpers in ``fakes.admin_panel``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fakes.admin_panel import Panel
from fakes.admin_panel import login_as as _login_as
from fastapi.testclient import TestClient


@pytest.fixture
def login_as(client: TestClient) -> Callable[..., Panel]:
    def login(role: str = "owner", tenant: str | None = "dulce-lima") -> Panel:
        return _login_as(client, role, tenant)

    return login
