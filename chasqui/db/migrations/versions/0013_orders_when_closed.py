"""Whether a shop takes orders outside its opening hours (``business.orders_when_closed``).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 00:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("business_settings") as batch:
        batch.add_column(sa.Column("orders_when_closed", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("business_settings") as batch:
        batch.drop_column("orders_when_closed")
