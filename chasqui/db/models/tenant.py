"""A business (tenant) and its configuration: business data, bot, payment, delivery, notifications."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chasqui.db.base import MYSQL_TABLE_OPTIONS, Base, created_at, tenant_fk, updated_at
from chasqui.db.types import JSONType, Money


class Tenant(Base):
    """A business. WhatsApp secrets are stored encrypted (``chasqui.crypto``)."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # WhatsApp Cloud API account
    phone_number_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    display_phone_number: Mapped[str | None] = mapped_column(String(32))
    waba_id: Mapped[str | None] = mapped_column(String(64))
    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    app_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    # The webhook handshake token, encrypted; looked up by its keyed hash (``crypto.keyed_hash``).
    verify_token_encrypted: Mapped[str | None] = mapped_column(Text)
    verify_token_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    business: Mapped[BusinessSettings | None] = relationship(
        back_populates="tenant", uselist=False, cascade="all, delete-orphan", passive_deletes=True
    )
    bot: Mapped[BotSettings | None] = relationship(
        back_populates="tenant", uselist=False, cascade="all, delete-orphan", passive_deletes=True
    )
    notifications: Mapped[NotificationSettings | None] = relationship(
        back_populates="tenant", uselist=False, cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"Tenant(id={self.id!r}, slug={self.slug!r})"


class BusinessSettings(Base):
    """One row per tenant: what the business is, where, when it opens, how it delivers."""

    __tablename__ = "business_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk(unique=True)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    country: Mapped[str] = mapped_column(String(2), default="PE", nullable=False)
    language: Mapped[str] = mapped_column(String(16), default="es-PE", nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), default="America/Lima", nullable=False)
    currency: Mapped[str] = mapped_column(String(3), default="PEN", nullable=False)
    currency_symbol: Mapped[str] = mapped_column(String(8), default="S/", nullable=False)
    address: Mapped[str] = mapped_column(Text, default="", nullable=False)
    hours: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict, nullable=False)
    delivery_enabled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    pickup_address: Mapped[str] = mapped_column(Text, default="", nullable=False)
    free_delivery_over: Mapped[Decimal | None] = mapped_column(Money())
    # Catalog version 2 (CONTRACT §8)
    min_order: Mapped[Decimal | None] = mapped_column(Money())  # no delivery below this subtotal
    # outside opening hours an order is taken for later (False: the cart waits, no order is placed)
    orders_when_closed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true(), nullable=False)
    policies: Mapped[list[dict[str, str]] | None] = mapped_column(JSONType)  # [{topic, text}]
    haggling: Mapped[str | None] = mapped_column(Text)  # the shop's answer to haggling
    faq: Mapped[list[dict[str, str]] | None] = mapped_column(JSONType)  # [{q, a}]
    documents: Mapped[list[str] | None] = mapped_column(JSONType)  # knowledge.documents as listed
    updated_at: Mapped[datetime] = updated_at()

    tenant: Mapped[Tenant] = relationship(back_populates="business")


class BotSettings(Base):
    """One row per tenant: the bot's name, personality, thresholds and human intervention."""

    __tablename__ = "bot_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk(unique=True)
    name: Mapped[str] = mapped_column(String(100), default="Asistente", nullable=False)
    personality: Mapped[str] = mapped_column(Text, default="", nullable=False)
    greeting: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # Extra instructions for the LLM teacher, on top of the personality.
    prompt: Mapped[str] = mapped_column(Text, default="", nullable=False)
    mode: Mapped[str] = mapped_column(String(32), default="sales", nullable=False)
    confidence_threshold: Mapped[Decimal] = mapped_column(
        Numeric(3, 2), default=Decimal("0.80"), nullable=False
    )
    context_messages: Mapped[int] = mapped_column(Integer, default=5, nullable=False)
    escalation_keywords: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    intervention_enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    intervention_timeout_seconds: Mapped[int] = mapped_column(Integer, default=120, nullable=False)
    operator_numbers: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    roles: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)  # [{name, keywords}] (CONTRACT §8)
    flows: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # the tenant file's ``flows:`` as validated
    updated_at: Mapped[datetime] = updated_at()

    tenant: Mapped[Tenant] = relationship(back_populates="bot")


class PaymentMethod(Base):
    __tablename__ = "payment_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    details: Mapped[str] = mapped_column(Text, default="", nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    __table_args__ = (UniqueConstraint("tenant_id", "code"), MYSQL_TABLE_OPTIONS)


class DeliveryZone(Base):
    __tablename__ = "delivery_zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    fee: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    eta: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    aliases: Mapped[list[str] | None] = mapped_column(JSONType)  # "SMP", "san martin"
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    __table_args__ = (UniqueConstraint("tenant_id", "name"), MYSQL_TABLE_OPTIONS)


class NotificationSettings(Base):
    """One row per tenant: which staff numbers hear about sales and escalations."""

    __tablename__ = "notification_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk(unique=True)
    notify_sales: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    notify_escalations: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    numbers: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    # An approved WhatsApp template with one body variable ({{1}} = the notice), used for a staff
    # number that has not written to the business in the last 24 h (free text is refused then).
    template_name: Mapped[str] = mapped_column(String(512), default="", server_default="", nullable=False)
    template_language: Mapped[str] = mapped_column(String(16), default="es", server_default="es", nullable=False)
    updated_at: Mapped[datetime] = updated_at()

    tenant: Mapped[Tenant] = relationship(back_populates="notifications")


__all__ = [
    "BotSettings",
    "BusinessSettings",
    "DeliveryZone",
    "NotificationSettings",
    "PaymentMethod",
    "Tenant",
]
