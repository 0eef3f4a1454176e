"""The web application: panel, webhook and health check, plus the embedded worker.

``create_app(settings)`` is a factory (``uvicorn --factory chasqui.web.app:create_app``). Its
lifespan builds the long-lived objects once (runtime, intent model, Graph client, queue, worker),
keeps them on ``app.state.chasqui`` and closes them on shutdown. ``bootstrap(settings, progress)``
prepares a fresh installation before the server starts (``chasqui serve`` / ``chasqui init``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from starlette.middleware.sessions import SessionMiddleware

from chasqui.config import Settings, get_settings
from chasqui.runtime import Runtime
from chasqui.web.auth import LoginLimiter
from chasqui.whatsapp.graph import GraphClient
from chasqui.worker.queue import EmbeddedQueue, NullQueue, WorkQueue
from chasqui.worker.run import Worker, WorkerConfig

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
SESSION_COOKIE = "chasqui_session"
SESSION_MAX_AGE_S = 14 * 24 * 3600
ADMIN_EMAIL = "admin@chasqui.local"
Progress = Callable[[str], None]


@dataclass
class AppState:
    settings: Settings
    runtime: Runtime
    graph: GraphClient
    queue: WorkQueue
    worker: Worker | None
    templates: Jinja2Templates
    login_limiter: LoginLimiter


def bootstrap(settings: Settings, progress: Progress | None = None) -> None:
    """Migrate and seed the database, import the demo tenant if empty, make sure an intent model
    exists, and create the first panel user (its one-time password is printed once, to stderr)."""
    from chasqui.accounts import SUPERADMIN, create_user, generate_password
    from chasqui.db.models import User

    runtime = Runtime.from_settings(settings)
    try:
        if progress:
            progress("preparing the database")
        runtime.init(progress)
        slug = runtime.import_demo_if_empty()
        if slug and progress:
            progress(f"imported the demo tenant {slug}")
        runtime.model(progress)
        with runtime.session() as session:
            if session.scalar(select(func.count(User.id))):
                return
            password = generate_password()
            create_user(session, ADMIN_EMAIL, password, SUPERADMIN)
        print(
            f"Panel: http://127.0.0.1:8000/login — usuario {ADMIN_EMAIL}, contraseña {password} (cámbiala)",
            file=sys.stderr,
            flush=True,
        )
    finally:
        runtime.db.dispose()


def _schema_is_current(runtime: Runtime) -> bool:
    from chasqui.db.session import current_revision, head_revision

    try:
        return current_revision(runtime.db) == head_revision()
    except Exception:
        return False


def create_app(
    settings: Settings | None = None,
    *,
    embedded_worker: bool | None = None,
    worker_config: WorkerConfig | None = None,
) -> FastAPI:
    """The FastAPI app. ``embedded_worker`` (default: on unless ``CHASQUI_REDIS_URL`` is set, i.e.
    unless separate ``chasqui worker`` processes do the work) runs the worker inside this process."""
    settings = settings or get_settings()
    run_worker = settings.redis_url is None if embedded_worker is None else embedded_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.from_settings(settings)
        if not _schema_is_current(runtime):
            runtime.init()
        runtime.model()
        graph = GraphClient(settings.graph_api_url, settings.graph_api_version)
        queue: Any = EmbeddedQueue() if run_worker else NullQueue()
        worker = Worker(runtime, graph, queue, worker_config) if run_worker else None
        app.state.chasqui = AppState(
            settings,
            runtime,
            graph,
            queue,
            worker,
            Jinja2Templates(directory=str(TEMPLATES_DIR)),
            LoginLimiter(),
        )
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            graph.close()
            runtime.db.dispose()

    app = FastAPI(title="Chasqui", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_S,
        same_site="lax",
        https_only=False,
    )

    from chasqui.web import auth, panel, webhook

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    app.include_router(webhook.router)
    app.include_router(auth.router)
    app.include_router(panel.router)
    return app
