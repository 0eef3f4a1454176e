"""Who may see what: the logged-in user, CSRF checks, and every tenant-scoped lookup of the panel.

Every object a panel route touches is fetched through an ``access_*`` function: it belongs to the
user's current tenant or the answer is a 404, so a user of one tenant cannot even learn that an
object of another tenant exists. Every POST goes through ``require_csrf``.
"""

from __future__ import annotations

from typing import TypeVar

from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from chasqui.db.models import (
    CannedResponse,
    Conversation,
    ConversationNote,
    Escalation,
    Membership,
    Message,
    User,
)
from chasqui.web.auth import PanelUser, check_session_csrf, load_panel_user, same_origin

MANAGER_ROLES = frozenset({"owner", "admin", "superadmin"})


class NotLoggedIn(Exception):
    """Raised by ``panel_user``: the app answers with a redirect to /login (401 for HTMX/SSE)."""


T = TypeVar("T")

def not_found() -> HTTPException:
    return HTTPException(status_code=404, detail="No encontrado")


def panel_user(session: Session, request: Request) -> PanelUser:
    """The logged-in user; ``NotLoggedIn`` otherwise."""
    user = load_panel_user(session, request)
    if user is None:
        raise NotLoggedIn
    return user


def tenant_id_of(user: PanelUser) -> int:
    """The tenant the panel shows now (404 for a user who has none)."""
    if user.tenant is None or not user.can_see(user.tenant.id):
        raise not_found()
    return user.tenant.id


def role_of(user: PanelUser) -> str:
    if user.tenant is not None:
        return user.tenant.role
    return "superadmin" if user.is_superadmin else ""


def require_manager(user: PanelUser) -> None:
    """Owners, admins and superadmins manage shared settings (agents: 403)."""
    if role_of(user) not in MANAGER_ROLES:
        raise HTTPException(status_code=403, detail="No tienes permiso para esto")


async def require_csrf(request: Request) -> None:
    """FastAPI dependency for every POST: the session's token as the ``csrf_token`` form field or
    the ``X-CSRF-Token`` header (HTMX), and no cross-site ``Origin``."""
    token = request.headers.get("x-csrf-token", "")
    if not token:
        try:
            form = await request.form()
        except Exception:  # malformed multipart/urlencoded body
            form = None
        token = str(form.get("csrf_token", "")) if form is not None else ""
    if not same_origin(request) or not check_session_csrf(request, token):
        raise HTTPException(status_code=403, detail="El formulario expiró o no es válido. Recarga la página.")


# -- tenant-scoped lookups -----------------------------------------------------------------------
def _owned(session: Session, model: type[T], row_id: int, user: PanelUser) -> T:
    """The row if it belongs to the user's current tenant; 404 otherwise (never a 403: no existence leak)."""
    row = session.get(model, row_id)
    if row is None or row.tenant_id != tenant_id_of(user):  # type: ignore[attr-defined]
        raise not_found()
    return row


def access_conversation(session: Session, user: PanelUser, conversation_id: int) -> Conversation:
    """The conversation if it belongs to the user's current tenant; 404 otherwise."""
    return _owned(session, Conversation, conversation_id, user)


def access_message(session: Session, user: PanelUser, message_id: int) -> Message:
    return _owned(session, Message, message_id, user)


def access_escalation(session: Session, user: PanelUser, escalation_id: int) -> Escalation:
    return _owned(session, Escalation, escalation_id, user)


def access_canned(session: Session, user: PanelUser, canned_id: int) -> CannedResponse:
    return _owned(session, CannedResponse, canned_id, user)


def access_note(session: Session, user: PanelUser, note_id: int) -> ConversationNote:
    return _owned(session, ConversationNote, note_id, user)


def access_member(session: Session, user: PanelUser, user_id: int) -> User:
    """An active panel user who belongs to the current tenant (someone a conversation can go to)."""
    member = session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, User.active.is_(True), Membership.tenant_id == tenant_id_of(user))
    )
    if member is None:
        raise not_found()
    return member


def tenant_members(session: Session, user: PanelUser) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(User.active.is_(True), Membership.tenant_id == tenant_id_of(user))
            .order_by(User.name, User.email)
        )
    )
