"""API tokens page (owner/admin): create a token for the tenant (shown once) and revoke it."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from chasqui.db.models import ApiToken
from chasqui.web.admin.common import PanelForm, admin_access, audit, owned, page, redirect
from chasqui.web.admin.forms import FormReader
from chasqui.web.api.tokens import create_token

router = APIRouter(prefix="/admin/config/api-tokens")


def _tokens_page(request: Request, status: int = 200, **context: object) -> Response:
    with request.app.state.chasqui.runtime.session() as session:
        access = admin_access(request, session, "tokens")
        tokens = list(
            session.scalars(select(ApiToken).where(ApiToken.tenant_id == access.tenant_id).order_by(ApiToken.id.desc()))
        )
    values = {"tokens": tokens, "errors": [], "new_token": None, "tab": "tokens"} | context
    return page(request, "admin/config_tokens.html", access, "config", values, status_code=status)


@router.get("")
def tokens_list(request: Request) -> Response:
    return _tokens_page(request)


@router.post("")
def token_create(request: Request, form: PanelForm) -> Response:
    reader = FormReader(form)
    name = reader.text("name", "Nombre del token", required=True, max_len=100)
    if reader.errors:
        return _tokens_page(request, 400, errors=reader.errors)
    with request.app.state.chasqui.runtime.session() as session:
        access = admin_access(request, session, "tokens")
        row, token = create_token(session, access.tenant_id, name, access.user.id)
        audit(session, access, access.tenant_id, "api.token.create", id=row.id, name=name, prefix=row.prefix)
    return _tokens_page(
        request, new_token=token, notice=f"Token «{name}» creado. Cópialo ahora: no se volverá a mostrar."
    )


@router.post("/{token_id}/revoke")
def token_revoke(request: Request, token_id: int, _form: PanelForm) -> Response:
    with request.app.state.chasqui.runtime.session() as session:
        access = admin_access(request, session, "tokens")
        row = owned(session, ApiToken, token_id, access)
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            audit(session, access, access.tenant_id, "api.token.revoke", id=row.id, name=row.name)
    return redirect(request, "/admin/config/api-tokens", "Token revocado.")
