"""The sale: a conversation's cart and the orders placed from it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chasqui.db.base import MYSQL_TABLE_OPTIONS, Base, check_in, created_at, tenant_fk, updated_at
from chasqui.db.types import JSONType, Money, Quantity, UTCDateTime

ORDER_STATUSES = (
    "pending_payment", "payment_reported", "paid", "preparing", "on_the_way", "delivered", "cancelled"
)
FULFILLMENTS = ("pickup", "delivery")


class Cart(Base):
    """The open cart of a conversation (at most one)."""

    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", passive_deletes=True, order_by="CartItem.id"
    )


class CartItem(Base):
    """A cart line. Products (or variants) are referenced by SKU (not by row id), so re-importing a
    catalog never breaks a cart. Two lines of one SKU may coexist when their notes differ ("un
    ceviche sin ají y otro normal")."""

    __tablename__ = "cart_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True, nullable=False)
    sku: Mapped[str] = mapped_column(String(64), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Quantity(), nullable=False)  # 2 units or 1.5 kg
    notes: Mapped[str] = mapped_column(Text, default="", server_default="", nullable=False)  # free notes of the line
    modifiers: Mapped[list[str] | None] = mapped_column(JSONType)  # chosen modifier names
    added_at: Mapped[datetime] = created_at()

    cart: Mapped[Cart] = relationship(back_populates="items")


class Order(Base):
    """An order: prices are copied at confirmation time, so later catalog changes don't alter it."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False)  # per tenant, shown to the customer
    status: Mapped[str] = mapped_column(String(16), default="pending_payment", nullable=False)
    fulfillment: Mapped[str | None] = mapped_column(String(16))
    zone: Mapped[str | None] = mapped_column(String(255))  # delivery zone name at order time
    delivery_address: Mapped[str | None] = mapped_column(Text)
    delivery_fee: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    subtotal: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    discount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    total: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    payment_method: Mapped[str | None] = mapped_column(String(64))  # payment method code
    change_for: Mapped[Decimal | None] = mapped_column(Money())  # the bill the customer pays cash with
    notes: Mapped[str | None] = mapped_column(Text)  # for the whole order ("tocar el timbre")
    voucher_media: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = created_at()
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", passive_deletes=True, order_by="OrderItem.id"
    )

    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_orders_tenant_id_status", "tenant_id", "status"),
        check_in("status", ORDER_STATUSES),
        check_in("fulfillment", FULFILLMENTS),
        MYSQL_TABLE_OPTIONS,
    )


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True, nullable=False
    )
    sku: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Money(), nullable=False)  # priced modifiers included
    quantity: Mapped[Decimal] = mapped_column(Quantity(), nullable=False)  # 2 units or 1.5 kg
    line_total: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    notes: Mapped[str] = mapped_column(Text, default="", server_default="", nullable=False)
    modifiers: Mapped[list[str] | None] = mapped_column(JSONType)

    order: Mapped[Order] = relationship(back_populates="items")
