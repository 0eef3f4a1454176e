"""Outbox rows for the sender tests: a tenant with a WhatsApp token, queued text rows, reading a row."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from chasqui.crypto import encrypt
from chasqui.db.models import Contact, Conversation, Message, OutboxMessage, Tenant
from chasqui.db.session import session_scope

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
TOKEN = "EAA-tenant-token"


def add_tenant(engine: Engine, secret: str, slug: str = "dulce-lima", phone_number_id: str = "109876543210") -> int:
    with session_scope(engine) as session:
        tenant = Tenant(slug=slug, name=slug, phone_number_id=phone_number_id,
                        access_token_encrypted=encrypt(TOKEN, secret))
        session.add(tenant)
        session.flush()
        return tenant.id


def queue_text(engine: Engine, tenant_id: int, to: str, text: str, *, with_message: bool = False) -> int:
    """A pending text row due at ``NOW`` (with its outbound message and conversation when asked)."""
    with session_scope(engine) as session:
        message_id = None
        if with_message:
            contact = Contact(tenant_id=tenant_id, phone=to, labels=[])
            session.add(contact)
            session.flush()
            conversation = Conversation(tenant_id=tenant_id, contact_id=contact.id, state="bot", context={})
            session.add(conversation)
            session.flush()
            message = Message(tenant_id=tenant_id, conversation_id=conversation.id, direction="out", sender="bot",
                              type="text", text=text, status="queued", processed=True)
            session.add(message)
            session.flush()
            message_id = message.id
        row = OutboxMessage(tenant_id=tenant_id, to=to, message_id=message_id, status="pending", attempts=0,
                            payload={"type": "text", "text": {"body": text}, "kind": "reply"}, next_attempt_at=NOW)
        session.add(row)
        session.flush()
        return row.id


def outbox_row(engine: Engine, row_id: int) -> OutboxMessage:
    with session_scope(engine) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        return row
