"""Catalog version 2: variants, decimal quantities, modifiers, order details

Products gain variants (``product_variants``), a way of being sold (unit, weight, length, volume;
minimum and step), money-amount sales and modifiers; stock and cart/order quantities become exact
decimals (3 places); cart and order lines keep notes and chosen modifiers (two lines of one SKU may
differ by their notes, so ``(cart_id, sku)`` is no longer unique); orders keep the cash change and
notes; zones have aliases; business settings hold the minimum order, policies, haggling answer,
FAQ and documents.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-07 18:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
QUANTITY = sa.Numeric(precision=12, scale=3)
MONEY = sa.Numeric(precision=12, scale=2)
MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.alter_column("stock", existing_type=sa.Integer(), type_=QUANTITY, existing_nullable=False)
        batch.add_column(sa.Column("sold_by", sa.String(length=16), nullable=False, server_default="unit"))
        batch.add_column(sa.Column("min_quantity", QUANTITY, nullable=True))
        batch.add_column(sa.Column("step", QUANTITY, nullable=True))
        batch.add_column(sa.Column("sold_by_amount", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("modifiers", JSON, nullable=True))
        batch.add_column(sa.Column("variant_options", JSON, nullable=True))

    op.create_table(
        "product_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("options", JSON, nullable=False),
        sa.Column("stock", QUANTITY, nullable=False),
        sa.Column("price", MONEY, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_variants_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_product_variants_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_variants")),
        sa.UniqueConstraint("tenant_id", "sku", name=op.f("uq_product_variants_tenant_id_sku")),
        **MYSQL,
    )
    op.create_index(op.f("ix_product_variants_product_id"), "product_variants", ["product_id"], unique=False)
    op.create_index(op.f("ix_product_variants_tenant_id"), "product_variants", ["tenant_id"], unique=False)

    # The index first: on MySQL/MariaDB the unique index also serves the cart_id foreign key.
    op.create_index(op.f("ix_cart_items_cart_id"), "cart_items", ["cart_id"], unique=False)
    with op.batch_alter_table("cart_items") as batch:
        batch.drop_constraint(op.f("uq_cart_items_cart_id_sku"), type_="unique")
        batch.alter_column("quantity", existing_type=sa.Integer(), type_=QUANTITY, existing_nullable=False)
        batch.add_column(sa.Column("notes", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("modifiers", JSON, nullable=True))

    with op.batch_alter_table("order_items") as batch:
        batch.alter_column("quantity", existing_type=sa.Integer(), type_=QUANTITY, existing_nullable=False)
        batch.add_column(sa.Column("notes", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("modifiers", JSON, nullable=True))

    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("change_for", MONEY, nullable=True))
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))

    with op.batch_alter_table("delivery_zones") as batch:
        batch.add_column(sa.Column("aliases", JSON, nullable=True))

    with op.batch_alter_table("business_settings") as batch:
        batch.add_column(sa.Column("min_order", MONEY, nullable=True))
        batch.add_column(sa.Column("policies", JSON, nullable=True))
        batch.add_column(sa.Column("haggling", sa.Text(), nullable=True))
        batch.add_column(sa.Column("faq", JSON, nullable=True))
        batch.add_column(sa.Column("documents", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("business_settings") as batch:
        batch.drop_column("documents")
        batch.drop_column("faq")
        batch.drop_column("haggling")
        batch.drop_column("policies")
        batch.drop_column("min_order")

    with op.batch_alter_table("delivery_zones") as batch:
        batch.drop_column("aliases")

    with op.batch_alter_table("orders") as batch:
        batch.drop_column("notes")
        batch.drop_column("change_for")

    with op.batch_alter_table("order_items") as batch:
        batch.drop_column("modifiers")
        batch.drop_column("notes")
        batch.alter_column("quantity", existing_type=QUANTITY, type_=sa.Integer(), existing_nullable=False)

    # Lines of one SKU that differ by their notes: keep the first, as version 1 allowed one.
    op.execute(
        "DELETE FROM cart_items WHERE id NOT IN "
        "(SELECT id FROM (SELECT MIN(id) AS id FROM cart_items GROUP BY cart_id, sku) AS keep)"
    )
    with op.batch_alter_table("cart_items") as batch:
        batch.drop_column("modifiers")
        batch.drop_column("notes")
        batch.alter_column("quantity", existing_type=QUANTITY, type_=sa.Integer(), existing_nullable=False)
        batch.create_unique_constraint(op.f("uq_cart_items_cart_id_sku"), ["cart_id", "sku"])
    op.drop_index(op.f("ix_cart_items_cart_id"), table_name="cart_items")

    op.drop_table("product_variants")  # with its indexes (MySQL keeps those a foreign key needs)

    with op.batch_alter_table("products") as batch:
        batch.drop_column("variant_options")
        batch.drop_column("modifiers")
        batch.drop_column("sold_by_amount")
        batch.drop_column("step")
        batch.drop_column("min_quantity")
        batch.drop_column("sold_by")
        batch.alter_column("stock", existing_type=QUANTITY, type_=sa.Integer(), existing_nullable=False)
