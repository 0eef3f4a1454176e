"""What a tenant sells: products, promotions, and the words its bot says (reply templates)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chasqui.db.base import MYSQL_TABLE_OPTIONS, Base, created_at, tenant_fk, updated_at
from chasqui.db.types import JSONType, Money, Quantity


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    sku: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    category: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    price: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    stock: Mapped[Decimal] = mapped_column(Quantity(), default=Decimal(0), nullable=False)
    unit: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    aliases: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    image_url: Mapped[str | None] = mapped_column(String(1024))
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)  # order in the catalog
    # Catalog version 2 (CONTRACT §8): unit | weight | length | volume; None: no minimum / any step.
    sold_by: Mapped[str] = mapped_column(String(16), default="unit", server_default="unit", nullable=False)
    min_quantity: Mapped[Decimal | None] = mapped_column(Quantity())
    step: Mapped[Decimal | None] = mapped_column(Quantity())
    sold_by_amount: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    # ["sin ají", {"name": "extra pescado", "price": "8.00"}] and ["talla", "color"]
    modifiers: Mapped[list[Any] | None] = mapped_column(JSONType)
    variant_options: Mapped[list[str] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    variants: Mapped[list[ProductVariant]] = relationship(
        back_populates="product", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ProductVariant.position",
    )

    __table_args__ = (UniqueConstraint("tenant_id", "sku"), MYSQL_TABLE_OPTIONS)


class ProductVariant(Base):
    """A sellable variant of a product (talla 38, color negro): its own SKU (unique per tenant, across
    products too), stock and optional price (None: the product's)."""

    __tablename__ = "product_variants"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True, nullable=False
    )
    sku: Mapped[str] = mapped_column(String(64), nullable=False)
    options: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict, nullable=False)
    stock: Mapped[Decimal] = mapped_column(Quantity(), default=Decimal(0), nullable=False)
    price: Mapped[Decimal | None] = mapped_column(Money())
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    product: Mapped[Product] = relationship(back_populates="variants")

    __table_args__ = (UniqueConstraint("tenant_id", "sku"), MYSQL_TABLE_OPTIONS)


class Promotion(Base):
    """A promotion; ``rule`` is the JSON rule of ``chasqui.domain.Promotion``."""

    __tablename__ = "promotions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    sku: Mapped[str | None] = mapped_column(String(64))
    rule: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    __table_args__ = (UniqueConstraint("tenant_id", "code"), MYSQL_TABLE_OPTIONS)


class ReplyTemplate(Base):
    """One variant of what the bot says in a situation (``key``); variants are numbered from 0."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    key: Mapped[str] = mapped_column(String(100), nullable=False)
    variant: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (UniqueConstraint("tenant_id", "key", "variant"), MYSQL_TABLE_OPTIONS)
