"""Fixtures for the web tests: the real app on a throwaway SQLite database holding the demo tenant
(and a second tenant), with the Graph API pointed at a fake server on 127.0.0.1.

The database is built once per session (migrations, two tenant imports, the intent model) and
copied for every test, which keeps each test well under a second.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fakes.graph_server import FakeGraph
from fakes.webapp import FAST_WORKER, ROOT, SECRET_KEY, make_settings
from fastapi import FastAPI
from fastapi.testclient import TestClient

from chasqui.config import Settings
from chasqui.runtime import Runtime
from chasqui.tenants.io import import_tenant
from chasqui.web.app import create_app


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with the demo tenant, a second tenant and an active intent model."""
    directory = tmp_path_factory.mktemp("template")
    runtime = Runtime.from_settings(make_settings(directory))
    runtime.init()
    with runtime.session() as session:
        import_tenant(session, ROOT / "tenants" / "dulce-lima.yaml", secret_key=SECRET_KEY)
        import_tenant(session, ROOT / "tenants" / "ferreteria.yaml", secret_key=SECRET_KEY)
    runtime.model()
    runtime.db.dispose()
    return directory / "chasqui.db"


@pytest.fixture
def fake_graph() -> Iterator[FakeGraph]:
    with FakeGraph() as graph:
        yield graph


@pytest.fixture
def web_settings(tmp_path: Path, template_db: Path, fake_graph: FakeGraph) -> Settings:
    directory = tmp_path / "web"
    directory.mkdir()
    shutil.copy(template_db, directory / "chasqui.db")
    return make_settings(directory, fake_graph.url)


@pytest.fixture
def make_client(web_settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """``make_client(worker=True)``: a started app (lifespan run) and its test client."""
    clients: list[TestClient] = []

    def build(worker: bool = False) -> TestClient:
        app: FastAPI = create_app(web_settings, embedded_worker=worker, worker_config=FAST_WORKER)
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """The app without the background worker (webhook and panel only)."""
    return make_client(worker=False)


@pytest.fixture
def live_client(make_client: Callable[..., TestClient]) -> TestClient:
    """The app with its embedded worker running."""
    return make_client(worker=True)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with test-sized costs: the same code path, a fraction of the CPU time."""
    import chasqui.accounts as accounts

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("dummy"))
