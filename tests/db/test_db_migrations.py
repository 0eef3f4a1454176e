"""The Alembic migrations build exactly the models' schema on every backend, and undo it."""

from __future__ import annotations

import sys
import types

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from chasqui.config import Settings
from chasqui.db import platform_settings
from chasqui.db.models import Base, Intent, PlatformSetting
from chasqui.db.session import (
    current_revision,
    downgrade,
    head_revision,
    init_db,
    make_engine,
    seed_intents,
    session_scope,
    upgrade,
)


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_head_creates_the_models_schema_and_downgrade_removes_it(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert _tables(engine) == set()
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert _tables(engine) == set(Base.metadata.tables)
        # Nothing in the models that the migrations lack (columns, types, indexes, constraints).
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diff == []

        downgrade(engine, "base")
        assert _tables(engine) == set()
        assert current_revision(engine) is None

        upgrade(engine)  # and up again, on the same database
        assert _tables(engine) == set(Base.metadata.tables)
    finally:
        engine.dispose()


def test_init_db_seeds_platform_defaults_once_and_keeps_changed_values(db_url: str) -> None:
    engine = make_engine(db_url)
    settings = Settings(llm_model="llama3.1:8b")
    try:
        init_db(engine, settings)
        with session_scope(engine) as session:
            values = platform_settings.all_settings(session)
            assert values == {
                "llm_model": "llama3.1:8b",
                "llm_temperature": "0.3",
                "llm_max_tokens": "300",
                "ml_confidence_threshold": "0.80",
                "ml_retrain_every": "50",
                "llm_timeout_seconds": "8",
                "llm_max_reply_chars": "400",
                "llm_max_reply_sentences": "3",
            }
            platform_settings.set_setting(session, "llm_temperature", "0.7")

        init_db(engine, Settings(llm_model="gpt-4o-mini"))  # a restart with other env: no overwrite
        with session_scope(engine) as session:
            assert session.scalar(
                select(PlatformSetting.value).where(PlatformSetting.key == "llm_model")
            ) == ("llama3.1:8b")
            assert platform_settings.get_typed(session, "llm_temperature") == 0.7
            assert len(session.scalars(select(PlatformSetting)).all()) == 8
    finally:
        engine.dispose()


def test_init_db_seeds_the_intent_catalog_when_the_nlu_module_exists(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = types.ModuleType("chasqui.nlu.intents")
    fake.INTENTS = {"saludo": "greeting only", "despedida": "goodbye"}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "chasqui.nlu.intents", fake)
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    init_db(engine)
    init_db(engine)  # idempotent
    with session_scope(engine) as session:
        rows = {i.name: i.description for i in session.scalars(select(Intent))}
        assert rows == {"saludo": "greeting only", "despedida": "goodbye"}
        # other shapes of the catalog are accepted too
        assert seed_intents(session, ["agradecimiento", ("queja_reclamo", "complaint")]) == 2
        assert session.get(Intent, 3) is not None
    engine.dispose()


def test_make_engine_creates_the_sqlite_folder_and_enforces_foreign_keys(tmp_path) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    engine = make_engine(f"sqlite:///{tmp_path / 'deep' / 'er' / 'chasqui.db'}")
    init_db(engine)
    assert (tmp_path / "deep" / "er" / "chasqui.db").exists()
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (tenant_id, sku, name, category, price, stock, unit, "
                "description, aliases, active, position, created_at, updated_at) "
                "VALUES (999, 'X', 'x', '', 1, 0, '', '', '[]', 1, 0, '2026-01-01', '2026-01-01')"
            )
        )
    engine.dispose()


def test_an_in_memory_database_is_shared_by_threads() -> None:
    """``chasqui simulate`` style throwaway databases: the worker thread sees the same data."""
    import threading

    engine = make_engine("sqlite://")
    init_db(engine)
    seen: list[int] = []

    def count() -> None:
        with session_scope(engine) as session:
            seen.append(len(session.scalars(select(PlatformSetting)).all()))

    worker = threading.Thread(target=count)
    worker.start()
    worker.join()
    assert seen == [8]
