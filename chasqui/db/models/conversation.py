"""Customers, their conversations, every message in and out, and escalations to a human."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Double, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chasqui.db.base import MYSQL_TABLE_OPTIONS, Base, check_in, created_at, tenant_fk, updated_at
from chasqui.db.types import JSONType, UTCDateTime

CONVERSATION_STATES = ("bot", "escalated", "paused")
MESSAGE_DIRECTIONS = ("in", "out")
MESSAGE_SENDERS = ("customer", "bot", "operator", "system")


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    phone: Mapped[str] = mapped_column(String(32), nullable=False)  # E.164 digits
    name: Mapped[str | None] = mapped_column(String(255))  # WhatsApp profile name
    alias: Mapped[str | None] = mapped_column(String(255))  # set by staff
    labels: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (UniqueConstraint("tenant_id", "phone"), MYSQL_TABLE_OPTIONS)


class Conversation(Base):
    """The one conversation thread of a contact with a tenant.

    ``context`` is the dialogue memory (JSON). JSON columns are not mutation-tracked: assign a
    new dict instead of changing the loaded one in place.
    """

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    state: Mapped[str] = mapped_column(String(16), default="bot", nullable=False)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assignee_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unread_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    contact: Mapped[Contact] = relationship()

    __table_args__ = (
        UniqueConstraint("tenant_id", "contact_id"),
        Index("ix_conversations_tenant_id_last_message_at", "tenant_id", "last_message_at"),
        check_in("state", CONVERSATION_STATES),
        MYSQL_TABLE_OPTIONS,
    )


class Message(Base):
    """A message in or out. ``wamid`` (WhatsApp message id) is unique: a message is stored once."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    direction: Mapped[str] = mapped_column(String(3), nullable=False)
    sender: Mapped[str] = mapped_column(String(16), nullable=False)
    type: Mapped[str] = mapped_column(String(32), default="text", nullable=False)
    text: Mapped[str | None] = mapped_column(Text)
    media: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    wamid: Mapped[str | None] = mapped_column(String(255), unique=True)
    # received | queued | sent | delivered | read | failed | ...
    status: Mapped[str | None] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Double)
    source: Mapped[str | None] = mapped_column(String(16))  # ml | llm | rule | fallback | none
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    processed: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        Index("ix_messages_conversation_id_processed", "conversation_id", "processed"),
        Index("ix_messages_conversation_id_created_at", "conversation_id", "created_at"),
        check_in("direction", MESSAGE_DIRECTIONS),
        check_in("sender", MESSAGE_SENDERS),
        MYSQL_TABLE_OPTIONS,
    )


class Escalation(Base):
    """A hand-off to a human. Open while ``resolved_at`` is NULL."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True, nullable=False
    )
    reason: Mapped[str] = mapped_column(String(64), nullable=False)  # solicitar_humano, queja_reclamo, ...
    detail: Mapped[str] = mapped_column(Text, default="", nullable=False)
    opened_at: Mapped[datetime] = created_at()
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # who closed it: "user:<id>", an operator's phone number, "timeout", ...
    resolved_by: Mapped[str | None] = mapped_column(String(255))
