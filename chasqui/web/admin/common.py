"""What every admin page shares: who may open it, CSRF, bounded form reading, audit, rendering.

Access: ``admin_access(request, session, area)`` answers the logged-in user and the tenant the
panel shows now, or raises ``PanelDenied`` (not logged in: redirect to /login; no tenant: 404;
a role without access to ``area``: 403). Objects are then fetched with ``owned(...)``, which
answers 404 for any row of another tenant, so nobody learns that it exists.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException

from chasqui.db.models import AuditLog
from chasqui.web.auth import PanelUser, load_panel_user, same_origin
from chasqui.web.layout import render

SUPERADMIN = "superadmin"
# Which roles may open each area of the admin pages.
AREAS: dict[str, frozenset[str]] = {
    "config": frozenset({"owner", "admin", SUPERADMIN}),
    "catalog": frozenset({"owner", "admin", SUPERADMIN}),
    "dashboard": frozenset({"owner", "admin", SUPERADMIN}),
    "ml": frozenset({"owner", SUPERADMIN}),
    "tokens": frozenset({"owner", "admin", SUPERADMIN}),
    "member": frozenset({"owner", "admin", "agent", SUPERADMIN}),
}
MAX_FORM_BYTES = 1_000_000
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
NOT_FOUND = "No encontrado."
FORBIDDEN = "No tienes permiso para abrir esta página."


class PanelDenied(Exception):
    """Stop a request: a redirect (``location``) or an error page with ``status``."""

    def __init__(self, status: int, message: str = "", location: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.location = status, message, location


@dataclass(frozen=True)
class Access:
    user: PanelUser
    tenant_id: int
    tenant_name: str
    role: str

    @property
    def can_configure(self) -> bool:
        return self.role in AREAS["config"]

    @property
    def can_use_ml(self) -> bool:
        return self.role in AREAS["ml"]


def admin_access(request: Request, session: Session, area: str) -> Access:
    user = load_panel_user(session, request)
    if user is None:
        raise PanelDenied(303, location="/login")
    if user.tenant is None or not user.can_see(user.tenant.id):
        raise PanelDenied(404, NOT_FOUND)
    if user.tenant.role not in AREAS[area]:
        raise PanelDenied(403, FORBIDDEN)
    return Access(user, user.tenant.id, user.tenant.name, user.tenant.role)


def owned(session: Session, model: Any, row_id: int, access: Access) -> Any:
    """The row ``row_id`` of ``model`` if it belongs to the access's tenant; 404 otherwise."""
    row = session.get(model, row_id)
    if row is None or row.tenant_id != access.tenant_id:
        raise PanelDenied(404, NOT_FOUND)
    return row


def check_csrf(request: Request, form: FormData | None = None) -> None:
    """The session's CSRF token must come in the form (``csrf_token``) or the X-CSRF-Token header."""
    expected = str(request.session.get("csrf", ""))
    given = request.headers.get("x-csrf-token") or (str(form.get("csrf_token", "")) if form else "")
    if not expected or not same_origin(request) or not secrets.compare_digest(expected, given):
        raise PanelDenied(400, "El formulario expiró o no es válido. Recarga la página y vuelve a intentarlo.")


def _declared_length(request: Request) -> int | None:
    try:
        return int(request.headers.get("content-length", ""))
    except ValueError:
        return None


async def read_form(request: Request, *, max_bytes: int = MAX_FORM_BYTES, files: int = 0) -> FormData:
    """The request's form, refusing bodies over ``max_bytes`` (413) and malformed ones (400);
    the CSRF token is checked."""
    declared = _declared_length(request)
    if declared is not None and declared > max_bytes:
        raise PanelDenied(413, too_large_message(max_bytes))
    try:
        form = await request.form(max_files=files, max_fields=2000, max_part_size=max_bytes)
    except MultiPartException as exc:
        raise PanelDenied(400, f"No se pudo leer el formulario: {exc}") from None
    check_csrf(request, form)
    return form


async def panel_form(request: Request) -> FormData:
    """FastAPI dependency: the checked form, read on the event loop (I/O only), so the route itself
    is a plain ``def`` that FastAPI runs in a worker thread: its DB work never blocks the loop."""
    return await read_form(request)


PanelForm = Annotated[FormData, Depends(panel_form)]


def too_large_message(max_bytes: int) -> str:
    return f"El envío es demasiado grande: el máximo es {max_bytes // (1024 * 1024) or 1} MB."


def audit(session: Session, access: Access | None, tenant_id: int | None, action: str, **detail: Any) -> None:
    session.add(AuditLog(tenant_id=tenant_id, user_id=access.user.id if access else None, action=action, detail=detail))


def flash(request: Request, message: str) -> None:
    request.session["flash"] = message[:500]


def redirect(request: Request, url: str, message: str | None = None) -> Response:
    if message:
        flash(request, message)
    return RedirectResponse(url, status_code=303)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def page(
    request: Request,
    template: str,
    access: Access | None,
    section: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """Render an admin page with the layout's variables (user, section, flash notice)."""
    notice = request.session.pop("flash", None) if status_code < 400 else None
    values: dict[str, Any] = {
        "user": access.user if access else None,
        "access": access,
        "section": section,
        "notice": notice,
    }
    values.update(context or {})
    return render(request, template, values, status_code=status_code)


def denied_response(request: Request, exc: PanelDenied) -> Response:
    if exc.location:
        return RedirectResponse(exc.location, status_code=exc.status)
    titles = {400: "Solicitud no válida", 403: "Sin permiso", 404: "No encontrado", 413: "Envío demasiado grande"}
    user = None
    try:
        runtime = request.app.state.chasqui.runtime
        with runtime.session() as session:
            user = load_panel_user(session, request)
    except Exception:  # noqa: BLE001 - the error page must render whatever happened
        user = None
    return render(
        request,
        "admin/error.html",
        {"user": user, "title": titles.get(exc.status, "Error"), "message": exc.message, "section": ""},
        status_code=exc.status,
    )


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value if not isinstance(value, str) else value[:200]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value][:50]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in list(value.items())[:50]}
    return str(value)[:200]


def assign(row: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set the attributes that differ; returns ``{field: [old, new]}`` for the audit log."""
    changed: dict[str, list[Any]] = {}
    for attr, value in values.items():
        old = getattr(row, attr)
        if old != value:
            changed[attr] = [_plain(old), _plain(value)]
            setattr(row, attr, value)
    return changed
