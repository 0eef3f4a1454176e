"""What an operator does to a conversation, as plain functions on a session (the routes call them).

Each function validates everything before it writes, so bad input leaves nothing half-saved;
mistakes are ``ValueError`` with a Spanish message for the page.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from chasqui.db.models import (
    AuditLog,
    Contact,
    Conversation,
    ConversationNote,
    Escalation,
    Message,
    OutboxMessage,
    User,
)
from chasqui.web.operator.media import check_attachment, outbox_payload, store_attachment
from chasqui.web.operator.queries import TAKEOVER_UNTIL, is_takeover, parse_labels

if TYPE_CHECKING:
    from chasqui.runtime import Runtime
    from chasqui.web.auth import PanelUser

MAX_TEXT = 4096  # WhatsApp's limit for a text message
MAX_NOTE = 2000
MAX_ALIAS = 100


def actor(user: PanelUser) -> str:
    return f"user:{user.id}"


def _audit(session: Session, user: PanelUser, conversation: Conversation, action: str, **detail: object) -> None:
    session.add(AuditLog(tenant_id=conversation.tenant_id, user_id=user.id, action=action,
                         detail={"conversation_id": conversation.id, **detail}))


def reply(
    runtime: Runtime, session: Session, user: PanelUser, conversation: Conversation, text: str, now: datetime,
    attachment: tuple[str, bytes] | None = None,
) -> None:
    """The operator writes to the customer: the text is queued for WhatsApp (the bot steps aside as
    configured, or stays off after "tomar control"); an attachment is stored, recorded and queued for
    WhatsApp too (uploaded, then sent after the text; its status follows the outbox row)."""
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise ValueError(f"El mensaje es demasiado largo: máximo {MAX_TEXT} caracteres.")
    if attachment is not None:
        check_attachment(attachment[0], len(attachment[1]))
    if not text and attachment is None:
        raise ValueError("Escribe un mensaje o adjunta un archivo.")
    takeover = is_takeover(conversation)
    service = runtime.service(session, conversation.tenant_id)
    phone = conversation.contact.phone
    if text:
        service.operator_message(session, phone, text, now, operator=actor(user))
    if attachment is not None:
        stored = store_attachment(runtime.settings.data_dir, conversation.tenant_id, *attachment)
        message = Message(
            tenant_id=conversation.tenant_id, conversation_id=conversation.id, direction="out", sender="operator",
            type=stored.kind, text=None, media=stored.media, status="queued", processed=True, created_at=now,
        )
        session.add(message)
        session.flush()
        session.add(OutboxMessage(
            tenant_id=conversation.tenant_id, conversation_id=conversation.id, message_id=message.id, to=phone,
            payload=outbox_payload(runtime.settings.data_dir, stored.media), status="pending", attempts=0,
            next_attempt_at=now, created_at=now,
        ))
        if not text:  # the bot steps aside exactly as for a text
            decision = service.engine.handle_operator("", service.load_state(session, conversation), now)
            conversation.state, conversation.paused_until = decision.status, decision.paused_until
        conversation.last_message_at, conversation.unread_count = now, 0
    if takeover and conversation.state != "escalated":
        conversation.state, conversation.paused_until = "paused", TAKEOVER_UNTIL
    session.flush()


def take_over(session: Session, user: PanelUser, conversation: Conversation) -> None:
    """The bot stays silent in this conversation until someone gives it back."""
    conversation.state, conversation.paused_until = "paused", TAKEOVER_UNTIL
    if conversation.assignee_user_id is None and user.tenant is not None and user.tenant.role != "superadmin":
        conversation.assignee_user_id = user.id
    _audit(session, user, conversation, "conversation.take_over")
    session.flush()


def return_to_bot(runtime: Runtime, session: Session, user: PanelUser, conversation: Conversation,
                  now: datetime) -> None:
    """The bot answers again; open escalations of the conversation are resolved."""
    service = runtime.service(session, conversation.tenant_id)
    service.resolve_escalation(session, conversation, now, by=actor(user))
    _audit(session, user, conversation, "conversation.return_to_bot")
    session.flush()


def resolve_escalation(runtime: Runtime, session: Session, user: PanelUser, escalation: Escalation,
                       now: datetime) -> bool:
    """Resolve (and reactivate the bot); False when it was already resolved."""
    if escalation.resolved_at is not None:
        return False
    conversation = session.get(Conversation, escalation.conversation_id)
    assert conversation is not None and conversation.tenant_id == escalation.tenant_id
    service = runtime.service(session, conversation.tenant_id)
    service.resolve_escalation(session, conversation, now, by=actor(user))
    _audit(session, user, conversation, "escalation.resolve", escalation_id=escalation.id)
    session.flush()
    return True


def set_alias(session: Session, contact: Contact, alias: str) -> None:
    alias = " ".join((alias or "").split())
    if len(alias) > MAX_ALIAS:
        raise ValueError(f"El alias puede tener hasta {MAX_ALIAS} caracteres.")
    contact.alias = alias or None
    session.flush()


def set_labels(session: Session, contact: Contact, raw: str) -> None:
    contact.labels = parse_labels(raw or "")
    session.flush()


def add_note(session: Session, user: PanelUser, conversation: Conversation, text: str, now: datetime) -> None:
    text = (text or "").strip()
    if not text:
        raise ValueError("La nota está vacía.")
    if len(text) > MAX_NOTE:
        raise ValueError(f"La nota puede tener hasta {MAX_NOTE} caracteres.")
    session.add(ConversationNote(tenant_id=conversation.tenant_id, conversation_id=conversation.id,
                                 user_id=user.id, text=text, created_at=now))
    session.flush()


def assign(session: Session, user: PanelUser, conversation: Conversation, member: User | None) -> None:
    conversation.assignee_user_id = member.id if member is not None else None
    _audit(session, user, conversation, "conversation.assign", to=member.id if member else None)
    session.flush()

