"""Who may see what: the logged-in user, CSRF checks, and every tenant-scoped lookup of the panel.

Every object a panel route touches is fetched through an ``access_*`` function: it belongs to the
user's current tenant or the answer is a 404, so a user of one tenant cannot even learn that an
object of another tenant exists. Every POST goes through ``require_csrf``.
"""

from __future__ import annotations

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
def access_conversation(session: Session, user: PanelUser, conversation_id: int) -> Conversation:
    """The conversation if it belongs to the user's current tenant; 404 otherwise."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.tenant_id != tenant_id_of(user):
        raise not_found()
    return conversation


def access_message(session: Session, user: PanelUser, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None or message.tenant_id != tenant_id_of(user):
        raise not_found()
    return message


def access_escalation(session: Session, user: PanelUser, escalation_id: int) -> Escalation:
    escalation = session.get(Escalation, escalation_id)
    if escalation is None or escalation.tenant_id != tenant_id_of(user):
        raise not_found()
    return escalation


def access_canned(session: Session, user: PanelUser, canned_id: int) -> CannedResponse:
    canned = session.get(CannedResponse, canned_id)
    if canned is None or canned.tenant_id != tenant_id_of(user):
        raise not_found()
    return canned


def access_note(session: Session, user: PanelUser, note_id: int) -> ConversationNote:
    note = session.get(ConversationNote, note_id)
    if note is None or note.tenant_id != tenant_id_of(user):
        raise not_found()
    return note


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
