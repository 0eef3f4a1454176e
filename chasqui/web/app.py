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
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from chasqui.config import Settings, get_settings
from chasqui.runtime import Runtime
from chasqui.web.access import NotLoggedIn
from chasqui.web.auth import LoginLimiter, LoginThrottle
from chasqui.web.body_limits import BodyLimits
from chasqui.web.headers import SecurityHeadersMiddleware
from chasqui.web.layout import STATIC_DIR, make_templates, render
from chasqui.web.live import Live
from chasqui.web.params import check_path_ids
from chasqui.web.sessions import SESSION_COOKIE as SESSION_COOKIE  # re-exported for tests
from chasqui.web.sessions import ServerSessionMiddleware, SessionStore
from chasqui.whatsapp.graph import GraphClient
from chasqui.worker.queue import EmbeddedQueue, NullQueue, RedisQueue, WorkQueue, queue_name
from chasqui.worker.run import Worker, WorkerConfig

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# Paths whose errors stay JSON/plain (machines read them); every other error is a panel page.
MACHINE_PREFIXES = ("/api", "/webhook", "/health", "/events", "/static")
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
    live: Live | None = None
    sessions: SessionStore | None = None  # server-side panel sessions
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)


def bootstrap(settings: Settings, progress: Progress | None = None, panel_url: str = "http://127.0.0.1:8000") -> None:
    """Migrate and seed the database, import the demo tenant if empty, make sure an intent model
    exists, and create the first panel user (its one-time password is printed once, to stderr)."""
    from chasqui.accounts import SUPERADMIN, create_user, generate_password, mark_one_time_password
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
            mark_one_time_password(session, create_user(session, ADMIN_EMAIL, password, SUPERADMIN))
        print(
            f"Panel: {panel_url}/login — usuario {ADMIN_EMAIL}, contraseña {password} (cámbiala)",
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
        if settings.redis_url and not run_worker:  # distributed: `chasqui worker` processes read Redis
            queue = RedisQueue(settings.redis_url, queue_name(settings))
        worker = Worker(runtime, graph, queue, worker_config) if run_worker else None
        live = Live.start(runtime.db, settings.redis_url)
        app.state.chasqui = AppState(
            settings,
            runtime,
            graph,
            queue,
            worker,
            make_templates(),
            LoginLimiter(),
            live,
            _session_store(runtime, settings),
        )
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            live.stop()
            if worker is not None:
                worker.stop()
            if isinstance(queue, RedisQueue):
                await queue.close()
            graph.close()
            runtime.db.dispose()

    app = FastAPI(
        title="Chasqui",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(check_path_ids)],  # an id no row can have: 404, never a driver error
    )
    app.add_middleware(ServerSessionMiddleware, store_of=_store_of)
    app.add_middleware(SecurityHeadersMiddleware)
    # client IP and https from X-Forwarded-* only when the peer is a configured proxy
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    app.add_middleware(  # outermost: a slow or oversized body is cut before any other work
        BodyLimits,
        total_s=settings.body_timeout_s,
        upload_total_s=settings.body_upload_timeout_s,
        idle_s=settings.body_idle_timeout_s,
    )

    from chasqui.web import account, auth, operator, webhook
    from chasqui.web.access_log import install_redaction

    install_redaction()  # the webhook verify token and access tokens never reach the access log

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    _add_error_pages(app)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR), check_dir=False), name="static")
    app.include_router(webhook.router)
    app.include_router(auth.router)
    app.include_router(account.router)
    app.include_router(operator.router)
    from chasqui.web import admin, api

    admin.install(app)  # configuration, catalog, ML, dashboard, exports, API tokens
    api.install(app)  # REST API /api/v1 and its docs at /api/docs
    return app


def _session_store(runtime: Runtime, settings: Settings) -> SessionStore:
    return SessionStore(
        runtime.session,
        idle_timeout=timedelta(seconds=settings.session_idle_timeout_s),
        absolute_timeout=timedelta(seconds=settings.session_absolute_timeout_s),
    )


def _store_of(scope: Any) -> SessionStore | None:
    state = getattr(scope["app"].state, "chasqui", None)
    return state.sessions if state is not None else None


def _add_error_pages(app: FastAPI) -> None:
    """Not logged in: to /login (401 for HTMX and event streams). Panel errors: a Spanish page."""

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, _exc: NotLoggedIn) -> Response:
        if request.headers.get("hx-request") or request.url.path.startswith(MACHINE_PREFIXES):
            return PlainTextResponse("login required", status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(MACHINE_PREFIXES):
            from fastapi.exception_handlers import http_exception_handler

            return await http_exception_handler(request, exc)
        detail = exc.detail if isinstance(exc.detail, str) else "Algo salió mal."
        titles = {403: "Sin permiso", 404: "No encontrado", 413: "Archivo demasiado grande"}
        return render(
            request,
            "error.html",
            {"title": titles.get(exc.status_code, "Error"), "detail": detail, "status": exc.status_code},
            status_code=exc.status_code,
        )
