"""Fixtures for the LLM teacher tests: a fake OpenAI-compatible server on 127.0.0.1 and a runtime
on a throwaway SQLite database holding the demo tenant, wired to it through ``llm_base_url``.

The database (migrations, tenant import, seed model) is built once per session and copied for
every test.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakes.llm_server import FakeLLM

from chasqui.config import Settings
from chasqui.conversations.service import TurnOutcome
from chasqui.db.platform_settings import set_setting
from chasqui.runtime import Runtime
from chasqui.tenants.io import import_tenant

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "tenants" / "dulce-lima.yaml"
NOW = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Lima: open


def _settings(directory: Path, llm_url: str | None) -> Settings:
    return Settings(database_url=f"sqlite:///{directory}/chasqui.db", data_dir=directory, redis_url=None,
                    llm_base_url=llm_url)


@pytest.fixture(scope="session")
def llm_server() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


@pytest.fixture
def llm(llm_server: FakeLLM) -> FakeLLM:
    llm_server.reset()
    return llm_server


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("llm-template")
    runtime = Runtime.from_settings(_settings(directory, None))
    runtime.init()
    with runtime.session() as session:
        import_tenant(session, DEMO)
    runtime.model()
    runtime.db.dispose()
    return directory / "chasqui.db"


@pytest.fixture
def runtime(tmp_path: Path, template_db: Path, llm: FakeLLM) -> Iterator[Runtime]:
    directory = tmp_path / "rt"
    directory.mkdir()
    shutil.copy(template_db, directory / "chasqui.db")
    rt = Runtime.from_settings(_settings(directory, llm.base_url))
    yield rt
    if rt._learner is not None:
        rt._learner.wait(120)
    rt.db.dispose()


class Chat:
    """Send customer messages through the real pipeline (the service, as the worker does)."""

    def __init__(self, runtime: Runtime, phone: str = "51900000001") -> None:
        self.runtime = runtime
        self.phone = phone
        self.now = NOW

    def __call__(self, text: str, phone: str | None = None) -> TurnOutcome:
        self.now += timedelta(seconds=5)
        with self.runtime.session() as session:
            service = self.runtime.service(session, "dulce-lima")
            return service.customer_message(session, phone or self.phone, text, self.now, name="Lucía")


@pytest.fixture
def chat(runtime: Runtime) -> Chat:
    return Chat(runtime)


@pytest.fixture
def setting(runtime: Runtime) -> Callable[[str, str], None]:
    def put(key: str, value: str) -> None:
        with runtime.session() as session:
            set_setting(session, key, value, secret_key=runtime.settings.secret())

    return put
