"""Engine, transactions and schema set-up (Alembic migrations + seed rows)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from chasqui.config import create_private_file

if TYPE_CHECKING:
    from alembic.config import Config

    from chasqui.config import Settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for any SQLAlchemy URL, tuned per backend.

    SQLite: the parent folder of the file is created, foreign keys are enforced, WAL journal and a
    busy timeout let the web process and the worker share the file. MySQL/MariaDB: utf8mb4.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    options: dict[str, Any] = {"pool_pre_ping": True}
    if backend == "sqlite":
        database = parsed.database or ""
        in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
        if not in_memory:
            create_private_file(Path(database))  # 0600 in a 0700 folder (the WAL files follow)
        options = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if in_memory:  # one shared connection, or every thread would see its own empty database
            options["poolclass"] = StaticPool
    elif backend in ("mysql", "mariadb"):
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        options["pool_recycle"] = 3600
    options.update(kwargs)
    engine = create_engine(parsed, **options)
    if backend == "sqlite":
        _tune_sqlite(engine, in_memory)
    return engine


def _tune_sqlite(engine: Engine, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on an exception."""
    session = Session(bind=engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# ---------------------------------------------------------------- migrations


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config without alembic.ini: the scripts are found inside the installed package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        # '%' must be doubled for configparser; the engine itself is passed via attributes.
        config.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


# ---------------------------------------------------------------- init


def init_db(engine: Engine, settings: Settings | None = None) -> None:
    """Bring the schema to the latest version and add the seed rows (idempotent).

    Seeds: the intent catalog (from ``chasqui.nlu.intents.INTENTS`` when that module exists) and
    the platform defaults (``PLATFORM_DEFAULTS``, with ``llm_model`` from the settings); existing
    values are never overwritten.
    """
    from chasqui.db.platform_settings import seed_platform_defaults

    upgrade(engine)
    if settings is None:
        from chasqui.config import get_settings

        settings = get_settings()
    with session_scope(engine) as session:
        seed_intents(session)
        seed_platform_defaults(session, settings)


def _load_intent_catalog() -> list[tuple[str, str]]:
    try:
        module = importlib.import_module("chasqui.nlu.intents")
    except ModuleNotFoundError as exc:
        if exc.name not in ("chasqui.nlu", "chasqui.nlu.intents"):
            raise
        return []
    return normalize_intents(getattr(module, "INTENTS", ()))


def normalize_intents(intents: Any) -> list[tuple[str, str]]:
    """Accept a mapping name→description, names, (name, description) pairs or objects with
    ``name``/``description`` attributes."""
    if isinstance(intents, Mapping):
        items: Iterable[Any] = intents.items()
    else:
        items = intents
    result: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, str):
            result.append((item, ""))
        elif isinstance(item, tuple | list):
            result.append((str(item[0]), str(item[1]) if len(item) > 1 else ""))
        elif isinstance(item, Mapping):
            result.append((str(item["name"]), str(item.get("description", ""))))
        else:
            result.append((str(item.name), str(getattr(item, "description", "") or "")))
    return result


def seed_intents(session: Session, intents: Any = None) -> int:
    """Insert missing intents and refresh descriptions; returns how many were added."""
    from chasqui.db.models import Intent

    catalog = _load_intent_catalog() if intents is None else normalize_intents(intents)
    existing = {row.name: row for row in session.scalars(select(Intent))}
    added = 0
    for name, description in catalog:
        row = existing.get(name)
        if row is None:
            session.add(Intent(name=name, description=description))
            added += 1
        elif description and row.description != description:
            row.description = description
    session.flush()
    return added
