"""The panel's page layout: templates, static files and the common context of every page.

* Templates live in ``chasqui/web/templates`` (the admin pages in ``templates/admin``); every page
  extends ``base.html`` (see the comment at its top for the blocks and variables it offers).
* Static files are served under ``/static``. The front-end libraries (htmx 2, Chart.js 4) are
  installed from the npm registry into ``static/vendor`` by ``scripts/install_assets.sh`` and are
  never committed; when they are missing the pages still work, degraded: ``vendor_url`` answers
  None and the templates leave the ``<script>`` out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
STATIC_URL = "/static"


def vendor_url(name: str) -> str | None:
    """The URL of an installed front-end library file (e.g. ``htmx.min.js``), or None if missing."""
    path = VENDOR_DIR / name
    if not path.is_file():
        return None
    return f"{STATIC_URL}/vendor/{name}?v={int(path.stat().st_mtime)}"


def static_url(name: str) -> str:
    """The URL of one of the panel's own static files, with a cache-busting version."""
    path = STATIC_DIR / name
    version = int(path.stat().st_mtime) if path.is_file() else 0
    return f"{STATIC_URL}/{name}?v={version}"


def csrf_of(request: Request) -> str:
    """The session's CSRF token ('' before login)."""
    return str(request.session.get("csrf", "")) if "session" in request.scope else ""


def flash(request: Request, *, notice: str | None = None, error: str | None = None) -> None:
    """A message for the next page this browser renders (after a redirect)."""
    request.session["flash"] = {k: v for k, v in (("notice", notice), ("error", error)) if v}


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.globals.update(vendor_url=vendor_url, static_url=static_url, csrf_of=csrf_of)
    return templates


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> Response:
    """A page: ``context`` plus ``csrf_token`` (the session's) unless given, and the one-time
    ``notice``/``error`` a previous request left in the session (``flash``)."""
    templates: Jinja2Templates = request.app.state.chasqui.templates
    values: dict[str, Any] = {"csrf_token": csrf_of(request)}
    pending = request.session.pop("flash", None) if "session" in request.scope else None
    if isinstance(pending, dict):
        values.update({k: str(v) for k, v in pending.items() if k in ("notice", "error")})
    elif isinstance(pending, str) and pending:
        values["notice"] = pending
    values.update(context or {})
    return templates.TemplateResponse(request, template, values, status_code=status_code)
