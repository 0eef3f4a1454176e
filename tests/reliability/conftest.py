"""Fixtures of the reliability suite: deployments to break.

``deployment`` is parametrized:

* ``sqlite``: one machine: SQLite, the web server on loopback, the worker embedded in it or as one
  ``chasqui worker`` process;
* ``distributed``: PostgreSQL + Redis, the web server enqueueing arq jobs, two ``chasqui worker``
  processes. Runs only when ``CHASQUI_TEST_REDIS_URL`` and ``CHASQUI_TEST_POSTGRES_URL`` are set
  (CI sets both); otherwise skipped with the reason shown by ``-ra``. It uses a private PostgreSQL
  database (created for the run, dropped at the end) and a private Redis queue name (its keys
  deleted at the end of each test).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fakes.reliability import build_template, postgres_database
from fakes.webapp import make_settings

REDIS_ENV, POSTGRES_ENV = "CHASQUI_TEST_REDIS_URL", "CHASQUI_TEST_POSTGRES_URL"


@dataclass(frozen=True)
class Deployment:
    name: str
    template: Path | None = None  # SQLite: a ready database file to copy
    database_url: str | None = None  # distributed: the private PostgreSQL database
    redis_url: str | None = None

    @property
    def distributed(self) -> bool:
        return self.redis_url is not None

    @property
    def workers(self) -> int:
        """How many ``chasqui worker`` processes this deployment runs."""
        return 2 if self.distributed else 1


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("reliability-sqlite")
    build_template(directory)
    return directory / "chasqui.db"


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One private, migrated PostgreSQL database (demo tenant, intent model) for the whole run."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"distributed mode: set {POSTGRES_ENV}")
    directory = tmp_path_factory.mktemp("reliability-postgres")
    with postgres_database(server) as url:
        build_template(directory, make_settings(directory).model_copy(update={"database_url": url}))
        yield url


@pytest.fixture(
    params=["sqlite", pytest.param("distributed", marks=[pytest.mark.redis, pytest.mark.postgres])],
)
def deployment(request: pytest.FixtureRequest, sqlite_template: Path) -> Deployment:
    if request.param == "sqlite":
        return Deployment("sqlite", template=sqlite_template)
    missing = [name for name in (REDIS_ENV, POSTGRES_ENV) if not os.environ.get(name)]
    if missing:
        pytest.skip(
            f"distributed mode: set {' and '.join(missing)} (e.g. {REDIS_ENV}=redis://127.0.0.1:6379/0, "
            f"{POSTGRES_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    url = request.getfixturevalue("postgres_url")
    return Deployment("distributed", database_url=url, redis_url=os.environ[REDIS_ENV])
