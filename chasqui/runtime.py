"""Wiring: settings -> database -> tenants -> intent model -> conversation service.

Used by the CLI and the web app. ``throwaway_runtime`` gives a private SQLite database holding
just one tenant file, for ``simulate``, ``chat --tenant FILE`` and ``nlu ... --tenant FILE``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine as DbEngine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chasqui.config import Settings
from chasqui.conversations.service import ConversationService
from chasqui.db.models import Tenant
from chasqui.db.session import init_db, make_engine, session_scope
from chasqui.dialogue.engine import Brain, Engine
from chasqui.domain import TenantSnapshot
from chasqui.nlu.classifier import IntentModel
from chasqui.nlu.registry import active_version_number, active_version_numbers, ensure_model, load_active_model
from chasqui.tenants.io import get_tenant, import_tenant
from chasqui.tenants.snapshot import load_snapshot

DEMO_TENANT = Path(__file__).resolve().parent.parent / "tenants" / "dulce-lima.yaml"
TENANT_FILE_SUFFIXES = (".yaml", ".yml", ".json")
Progress = Callable[[str], None]


def is_tenant_file(value: str) -> bool:
    return value.lower().endswith(TENANT_FILE_SUFFIXES)


@dataclass
class Runtime:
    settings: Settings
    db: DbEngine
    _model: IntentModel | None = field(default=None, repr=False)
    _model_version: int | None = field(default=None, repr=False)  # the active version when it was loaded
    # tenant id -> (version, model): the tenants that have their own promoted model
    _tenant_models: dict[int, tuple[int, IntentModel]] = field(default_factory=dict, repr=False)
    _llm: Any = field(default=None, repr=False)  # chasqui.llm.client.LLMClient (its circuit breaker)
    _learner: Any = field(default=None, repr=False)  # chasqui.nlu.learning.Learner

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(settings=settings, db=make_engine(settings.database_url))

    def session(self) -> contextmanager[Session]:  # type: ignore[valid-type]
        return session_scope(self.db)

    def init(self, progress: Progress | None = None) -> None:
        init_db(self.db, self.settings)

    def model(self, progress: Progress | None = None) -> IntentModel:
        """The platform model (seed data and samples platform staff confirmed)."""
        if self._model is None:
            with self.session() as session:
                self._model = ensure_model(session, progress)
                self._model_version = active_version_number(session)
        return self._model

    def current_model(self, session: Session, tenant_id: int) -> IntentModel:
        """The model for ``tenant_id``'s messages: its own promoted model, else the platform model;
        reloaded when another process has promoted a new version since it was loaded (a retrain in
        the panel reaches every ``chasqui worker`` within the service cache's second)."""
        platform, own = active_version_numbers(session, tenant_id)
        if self._model is not None and platform != self._model_version:
            self._model = None
        if own is None:
            self._tenant_models.pop(tenant_id, None)
            return self.model()
        cached = self._tenant_models.get(tenant_id)
        if cached is not None and cached[0] == own:
            return cached[1]
        model = load_active_model(session, tenant_id)
        if model is None:  # demoted meanwhile
            return self.model()
        self._tenant_models[tenant_id] = (own, model)
        return model

    def reload_model(self, tenant_id: int | None = None) -> None:
        """Forget the loaded models (all, or one tenant's own model); the next use reads them again."""
        if tenant_id is not None:
            self._tenant_models.pop(tenant_id, None)
            return
        self._model = None
        self._tenant_models.clear()

    def snapshot(self, session: Session, slug_or_id: str | int) -> TenantSnapshot:
        tenant = get_tenant(session, slug_or_id)
        return load_snapshot(session, tenant.id)

    def service(self, session: Session, slug_or_id: str | int) -> ConversationService:
        snapshot = self.snapshot(session, slug_or_id)
        brain = Brain.for_tenant(snapshot, self.current_model(session, snapshot.id))
        engine = Engine(snapshot, brain, teacher=self.teacher(session))
        return ConversationService(snapshot, engine, learner=self.learner())

    def teacher(self, session: Session) -> Any:
        """The LLM teacher with the current platform settings, or None when no endpoint is configured
        (``CHASQUI_LLM_BASE_URL``, else the platform setting ``llm_base_url``)."""
        from chasqui.llm.client import LLMClient, LLMSettings

        config = LLMSettings.load(session, self.settings)
        if config is None:
            return None
        from chasqui.llm.teacher import Teacher

        if self._llm is None:
            self._llm = LLMClient()
        return Teacher(self._llm, config)

    def learner(self) -> Any:
        """Retrains the intent model in the background after enough new samples."""
        if self._learner is None:
            from chasqui.nlu.learning import Learner

            self._learner = Learner(self.db, on_promoted=self.reload_model)
        return self._learner

    def import_demo_if_empty(self) -> str | None:
        with self.session() as session:
            if session.scalar(select(func.count(Tenant.id))):
                return None
            if not DEMO_TENANT.exists():
                return None
            tenant = import_tenant(session, DEMO_TENANT, secret_key=self.settings.secret())
            return tenant.slug


@contextmanager
def throwaway_runtime(tenant_file: str | Path, progress: Progress | None = None) -> Iterator[tuple[Runtime, str]]:
    """A runtime on a private temporary SQLite database holding only ``tenant_file``."""
    with tempfile.TemporaryDirectory(prefix="chasqui-") as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/chasqui.db", data_dir=Path(tmp), redis_url=None)
        runtime = Runtime.from_settings(settings)
        try:
            runtime.init(progress)
            with runtime.session() as session:
                tenant = import_tenant(session, Path(tenant_file), secret_key=settings.secret())
                slug = tenant.slug
            yield runtime, slug
        finally:
            if runtime._learner is not None:  # a retrain still running needs the database
                runtime._learner.wait()
            runtime.db.dispose()


@contextmanager
def open_runtime(settings: Settings, tenant: str | None, progress: Progress | None = None
                 ) -> Iterator[tuple[Runtime, str | None]]:
    """``--tenant FILE`` gives a throwaway runtime; a slug (or nothing) uses the configured DB."""
    if tenant and is_tenant_file(tenant):
        with throwaway_runtime(tenant, progress) as (runtime, slug):
            yield runtime, slug
        return
    runtime = Runtime.from_settings(settings)
    try:
        runtime.init(progress)
        yield runtime, tenant
    finally:
        runtime.db.dispose()
