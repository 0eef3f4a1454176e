"""WhatsApp transport: the outbound outbox and the raw inbound webhook events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chasqui.db.base import MYSQL_TABLE_OPTIONS, Base, check_in, created_at, tenant_fk
from chasqui.db.types import JSONType, LongText, UTCDateTime, utcnow

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")  # sending: claimed by a sender


class OutboxMessage(Base):
    """A message to send through the Graph API; sent at most once per row (idempotent on ``id``)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    # recipient phone (E.164 digits); the column is "to_phone" because TO is an SQL keyword
    to: Mapped[str] = mapped_column("to_phone", String(32), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    wamid: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = created_at()
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        check_in("status", OUTBOX_STATUSES),
        MYSQL_TABLE_OPTIONS,
    )


class WebhookEvent(Base):
    """A raw inbound webhook body, stored before it is answered (``tenant_id`` NULL: unroutable)."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = tenant_fk(nullable=True)
    received_at: Mapped[datetime] = created_at()
    body: Mapped[str] = mapped_column(LongText, nullable=False)
    signature_ok: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    processed: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_webhook_events_processed", "processed"),
        Index("ix_webhook_events_received_at", "received_at"),  # the retention purge
        MYSQL_TABLE_OPTIONS,
    )
