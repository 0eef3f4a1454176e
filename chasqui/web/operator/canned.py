"""Canned responses: ready-made answers an operator inserts into the reply box (per tenant)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chasqui.db.models import CannedResponse
from chasqui.web.access import (
    access_canned,
    panel_user,
    require_csrf,
    require_manager,
    role_of,
    tenant_id_of,
)
from chasqui.web.auth import PanelUser
from chasqui.web.layout import render

router = APIRouter()
MAX_SHORTCUT = 64
MAX_TEXT = 4096
MAX_PER_TENANT = 200


def _clean(shortcut: str, text: str) -> tuple[str, str]:
    shortcut, text = " ".join(shortcut.split()), text.strip()
    if not shortcut or not text:
        raise ValueError("Escribe un nombre corto y el texto de la respuesta.")
    if len(shortcut) > MAX_SHORTCUT:
        raise ValueError(f"El nombre corto puede tener hasta {MAX_SHORTCUT} caracteres.")
    if len(text) > MAX_TEXT:
        raise ValueError(f"El texto puede tener hasta {MAX_TEXT} caracteres.")
    return shortcut, text


def _taken(session: Session, tenant_id: int, shortcut: str, except_id: int | None = None) -> bool:
    query = select(CannedResponse.id).where(CannedResponse.tenant_id == tenant_id, CannedResponse.shortcut == shortcut)
    if except_id is not None:
        query = query.where(CannedResponse.id != except_id)
    return session.scalar(query.limit(1)) is not None


def _page(request: Request, session: Session, user: PanelUser, *, error: str | None = None,
          form: dict[str, str] | None = None, status_code: int = 200) -> Response:
    items = []
    if user.tenant is not None:
        items = [
            {"id": c.id, "shortcut": c.shortcut, "text": c.text}
            for c in session.scalars(
                select(CannedResponse)
                .where(CannedResponse.tenant_id == tenant_id_of(user))
                .order_by(CannedResponse.position, CannedResponse.shortcut)
            )
        ]
    context = {"user": user, "section": "canned", "items": items, "form": form or {"shortcut": "", "text": ""},
               "can_manage": role_of(user) in ("owner", "admin", "superadmin")}
    if error:
        context["error"] = error
    return render(request, "canned.html", context, status_code=status_code)


@router.get("/canned")
def canned_page(request: Request) -> Response:
    with request.app.state.chasqui.runtime.session() as session:
        return _page(request, session, panel_user(session, request))


@router.post("/canned", dependencies=[Depends(require_csrf)])
def add_canned(request: Request, shortcut: str = Form(""), text: str = Form("")) -> Response:
    with request.app.state.chasqui.runtime.session() as session:
        user = panel_user(session, request)
        require_manager(user)
        tenant_id = tenant_id_of(user)
        try:
            clean_shortcut, clean_text = _clean(shortcut, text)
            if _taken(session, tenant_id, clean_shortcut):
                raise ValueError(f"Ya existe una respuesta llamada «{clean_shortcut}».")
            count = session.scalar(select(func.count(CannedResponse.id)).where(CannedResponse.tenant_id == tenant_id))
            if (count or 0) >= MAX_PER_TENANT:
                raise ValueError(f"Se permiten hasta {MAX_PER_TENANT} respuestas rápidas.")
        except ValueError as exc:
            return _page(request, session, user, error=str(exc), form={"shortcut": shortcut[:200], "text": text},
                         status_code=400)
        position = session.scalar(
            select(func.coalesce(func.max(CannedResponse.position), 0)).where(CannedResponse.tenant_id == tenant_id)
        )
        session.add(CannedResponse(tenant_id=tenant_id, shortcut=clean_shortcut, text=clean_text,
                                   position=(position or 0) + 1))
    request.session["flash"] = {"notice": "Respuesta rápida guardada."}
    return RedirectResponse("/canned", status_code=303)


@router.post("/canned/{canned_id}", dependencies=[Depends(require_csrf)])
def edit_canned(request: Request, canned_id: int, shortcut: str = Form(""), text: str = Form("")) -> Response:
    with request.app.state.chasqui.runtime.session() as session:
        user = panel_user(session, request)
        canned = access_canned(session, user, canned_id)
        require_manager(user)
        try:
            clean_shortcut, clean_text = _clean(shortcut, text)
            if _taken(session, canned.tenant_id, clean_shortcut, except_id=canned.id):
                raise ValueError(f"Ya existe una respuesta llamada «{clean_shortcut}».")
        except ValueError as exc:
            return _page(request, session, user, error=str(exc), status_code=400)
        canned.shortcut, canned.text = clean_shortcut, clean_text
    request.session["flash"] = {"notice": "Respuesta rápida actualizada."}
    return RedirectResponse("/canned", status_code=303)


@router.post("/canned/{canned_id}/delete", dependencies=[Depends(require_csrf)])
def delete_canned(request: Request, canned_id: int) -> Response:
    with request.app.state.chasqui.runtime.session() as session:
        user = panel_user(session, request)
        canned = access_canned(session, user, canned_id)
        require_manager(user)
        session.delete(canned)
    request.session["flash"] = {"notice": "Respuesta rápida eliminada."}
    return RedirectResponse("/canned", status_code=303)
