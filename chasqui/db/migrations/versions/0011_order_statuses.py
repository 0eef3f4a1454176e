"""Order statuses of CONTRACT §4: payment_reported (the customer says they paid, staff have not
verified it) and the shop's own steps after payment (preparing, on_the_way, delivered).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 18:55:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("pending_payment", "paid", "cancelled")
NEW = ("pending_payment", "payment_reported", "paid", "preparing", "on_the_way", "delivered", "cancelled")


def _replace_check(values: tuple[str, ...]) -> None:
    quoted = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint(op.f("ck_orders_status"), type_="check")
        batch.create_check_constraint("status", f"status IN ({quoted})")


def upgrade() -> None:
    _replace_check(NEW)


def downgrade() -> None:
    # Orders in a status the old schema does not know go back to the nearest old one.
    op.execute("UPDATE orders SET status = 'pending_payment' WHERE status = 'payment_reported'")
    op.execute("UPDATE orders SET status = 'paid' WHERE status IN ('preparing', 'on_the_way', 'delivered')")
    _replace_check(OLD)
