"""Chat roles and step flows (CONTRACT §8 ``roles:`` and ``flows:``) on the bot settings, as JSON:
roles are a short list read with the tenant, and a flow is one definition read and validated whole.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("bot_settings") as batch:
        batch.add_column(sa.Column("roles", JSON, nullable=True))
        batch.add_column(sa.Column("flows", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bot_settings") as batch:
        batch.drop_column("flows")
        batch.drop_column("roles")
