"""Shared fixtures.

Databases
- ``engine`` / ``session``: a migrated, seeded SQLite database in a temporary file (fast; use
  these unless a test is about the database itself).
- ``db_backend``: parametrized over ``sqlite`` (always), ``postgres`` and ``mysql`` (only when
  ``CHASQUI_TEST_POSTGRES_URL`` / ``CHASQUI_TEST_MYSQL_URL`` name a server; otherwise skipped
  with the reason shown by ``-ra``). The server URL's user must be allowed to create databases:
  every test gets its own freshly created database, dropped afterwards.
- ``db_url``: an empty database of ``db_backend``; ``db_engine``: the same, migrated and seeded.

Settings
- Every test runs with ``CHASQUI_DATA_DIR`` in its tmp dir and a fixed ``CHASQUI_SECRET_KEY``,
  so nothing is written to ./data and ``get_settings()`` is rebuilt per test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from chasqui.config import Settings, get_settings
from chasqui.db.models import Base
from chasqui.db.session import init_db, make_engine, upgrade

TEST_SECRET_KEY = "chasqui-test-secret-key-not-for-production"
PROJECT_ROOT = Path(__file__).resolve().parent.parent

SERVER_ENV = {"postgres": "CHASQUI_TEST_POSTGRES_URL", "mysql": "CHASQUI_TEST_MYSQL_URL"}
SERVER_EXAMPLE = {
    "postgres": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/test",
}


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("CHASQUI_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CHASQUI_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("CHASQUI_DATABASE_URL", f"sqlite:///{data_dir}/chasqui.db")
    for name in ("CHASQUI_REDIS_URL", "CHASQUI_LLM_BASE_URL", "CHASQUI_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def settings() -> Settings:
    return get_settings()


# ------------------------------------------------------------------ SQLite (default)


@pytest.fixture
def engine(tmp_path: Path, settings: Settings) -> Iterator[Engine]:
    """A migrated and seeded SQLite database in a temporary file."""
    eng = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    init_db(eng, settings)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on ``engine``; nothing is committed unless the test commits."""
    with Session(engine, expire_on_commit=False) as sess:
        yield sess


# ------------------------------------------------------------------ all backends


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def db_backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name in SERVER_ENV and not os.environ.get(SERVER_ENV[name]):
        pytest.skip(f"{name}: set {SERVER_ENV[name]} (e.g. {SERVER_EXAMPLE[name]}) to run this on {name}")
    return name


def _server_admin(url: str) -> Engine:
    return create_engine(make_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _create_database(backend: str, server_url: str) -> tuple[str, str]:
    name = f"chasqui_test_{uuid.uuid4().hex[:12]}"
    admin = _server_admin(server_url)
    try:
        with admin.connect() as conn:
            if backend == "postgres":
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    finally:
        admin.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    return name, url


def _drop_database(backend: str, server_url: str, name: str) -> None:
    admin = _server_admin(server_url)
    try:
        with admin.connect() as conn:
            if backend == "postgres":
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        admin.dispose()


@pytest.fixture
def db_url(db_backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database of ``db_backend`` (dropped after the test)."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'backend.db'}"
        return
    server_url = os.environ[SERVER_ENV[db_backend]]
    name, url = _create_database(db_backend, server_url)
    try:
        yield url
    finally:
        _drop_database(db_backend, server_url, name)


@pytest.fixture(scope="session")
def _server_databases() -> Iterator[dict[str, tuple[str, str]]]:
    """One migrated database per server backend for the whole test session (dropped at the end)."""
    created: dict[str, tuple[str, str]] = {}
    yield created
    for backend, (name, _url) in created.items():
        _drop_database(backend, os.environ[SERVER_ENV[backend]], name)


def _empty_tables(engine: Engine) -> None:
    # DELETE, not TRUNCATE: on a handful of rows it is much faster on PostgreSQL and MariaDB.
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def db_engine(
    db_backend: str, tmp_path: Path, settings: Settings, _server_databases: dict[str, tuple[str, str]]
) -> Iterator[Engine]:
    """A migrated, seeded database of ``db_backend`` holding nothing else.

    SQLite: a new file per test. Servers: one database per test session, emptied before each test
    (creating and migrating a MariaDB database per test would take seconds).
    """
    if db_backend == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'backend.db'}")
        init_db(eng, settings)
        yield eng
        eng.dispose()
        return
    if db_backend not in _server_databases:
        _server_databases[db_backend] = _create_database(db_backend, os.environ[SERVER_ENV[db_backend]])
    eng = make_engine(_server_databases[db_backend][1])
    try:
        upgrade(eng)
        _empty_tables(eng)
        init_db(eng, settings)
        yield eng
    finally:
        eng.dispose()


# ------------------------------------------------------------------ tenant files


@pytest.fixture
def demo_tenant_file() -> Path:
    """The project's demo tenant (same content as spec/tenant.example.yaml)."""
    return PROJECT_ROOT / "tenants" / "dulce-lima.yaml"
