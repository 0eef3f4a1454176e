"""The panel pages (minimal for now): the current tenant's conversations and one conversation.

Every object is fetched through an ``access_*`` function that checks it belongs to a tenant the
user may see; anything else is a 404, so a user of one tenant cannot even learn that another
tenant's conversation exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chasqui.db.models import BusinessSettings, Contact, Conversation, Message
from chasqui.web.auth import PanelUser, load_panel_user, session_csrf

router = APIRouter()

STATE_LABELS = {"bot": "Bot", "escalated": "Derivada a humano", "paused": "Pausada (operador)"}
PAGE_SIZE = 100


@dataclass(frozen=True)
class ConversationRow:
    id: int
    customer: str
    phone: str
    state: str
    state_label: str
    last_text: str
    last_at: str
    unread: int


def message_label(message: Message | None) -> str:
    """What the panel shows for a message: its text, else its media summary, else its kind."""
    if message is None:
        return ""
    if message.text:
        return message.text
    media: dict[str, Any] = message.media or {}
    return str(media.get("summary") or f"[{message.type}]")


def _timezone(session: Session, tenant_id: int) -> ZoneInfo:
    name = session.scalar(select(BusinessSettings.timezone).where(BusinessSettings.tenant_id == tenant_id))
    try:
        return ZoneInfo(name or "America/Lima")
    except (KeyError, ValueError):
        return ZoneInfo("America/Lima")


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%d/%m %H:%M") if value else ""


def access_conversation(session: Session, user: PanelUser, conversation_id: int) -> Conversation:
    """The conversation if it belongs to the user's current tenant; 404 otherwise."""
    conversation = session.get(Conversation, conversation_id)
    if (
        conversation is None
        or user.tenant is None
        or conversation.tenant_id != user.tenant.id
        or not user.can_see(conversation.tenant_id)
    ):
        raise HTTPException(status_code=404, detail="No encontrado")
    return conversation


def conversation_rows(session: Session, tenant_id: int) -> list[ConversationRow]:
    """The tenant's conversations, latest activity first, each with its last message."""
    tz = _timezone(session, tenant_id)
    last = (
        select(Message.conversation_id, func.max(Message.id).label("message_id"))
        .where(Message.tenant_id == tenant_id)
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = session.execute(
        select(Conversation, Contact, Message)
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(last, last.c.conversation_id == Conversation.id)
        .outerjoin(Message, Message.id == last.c.message_id)
        .where(Conversation.tenant_id == tenant_id)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(PAGE_SIZE)
    ).all()
    return [
        ConversationRow(
            id=conversation.id,
            customer=contact.alias or contact.name or contact.phone,
            phone=contact.phone,
            state=conversation.state,
            state_label=STATE_LABELS.get(conversation.state, conversation.state),
            last_text=message_label(message)[:140],
            last_at=_when(conversation.last_message_at, tz),
            unread=conversation.unread_count or 0,
        )
        for conversation, contact, message in rows
    ]


def _user_or_redirect(session: Session, request: Request) -> PanelUser | Response:
    user = load_panel_user(session, request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return user


@router.get("/")
def inbox(request: Request, tenant: str | None = None) -> Response:
    state = request.app.state.chasqui
    with state.runtime.session() as session:
        user = _user_or_redirect(session, request)
        if isinstance(user, Response):
            return user
        if tenant:
            chosen = next((t for t in user.tenants if t.slug == tenant), None)
            if chosen is None:
                raise HTTPException(status_code=404, detail="No encontrado")
            request.session["tid"] = chosen.id
            user = load_panel_user(session, request) or user
        rows = conversation_rows(session, user.tenant.id) if user.tenant else []
    return state.templates.TemplateResponse(
        request,
        "inbox.html",
        {"user": user, "conversations": rows, "csrf_token": session_csrf(request)},
    )


@router.get("/conversations/{conversation_id}")
def conversation_page(request: Request, conversation_id: int) -> Response:
    state = request.app.state.chasqui
    with state.runtime.session() as session:
        user = _user_or_redirect(session, request)
        if isinstance(user, Response):
            return user
        conversation = access_conversation(session, user, conversation_id)
        tz = _timezone(session, conversation.tenant_id)
        contact = conversation.contact
        messages = [
            {
                "who": m.sender,
                "direction": m.direction,
                "text": message_label(m),
                "at": _when(m.created_at, tz),
                "status": m.status or "",
                "intent": m.intent or "",
            }
            for m in session.scalars(
                select(Message)
                .where(
                    Message.tenant_id == conversation.tenant_id, Message.conversation_id == conversation.id
                )
                .order_by(Message.id.desc())
                .limit(200)
            )
        ][::-1]
        context = {
            "user": user,
            "customer": contact.alias or contact.name or contact.phone,
            "phone": contact.phone,
            "state_label": STATE_LABELS.get(conversation.state, conversation.state),
            "messages": messages,
            "csrf_token": session_csrf(request),
        }
    return state.templates.TemplateResponse(request, "conversation.html", context)
