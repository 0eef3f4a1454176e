"""Staff notifications outside WhatsApp's 24 h window: the approved template to use.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 23:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification_settings") as batch:
        batch.add_column(sa.Column("template_name", sa.String(length=512), nullable=False, server_default=""))
        batch.add_column(sa.Column("template_language", sa.String(length=16), nullable=False, server_default="es"))


def downgrade() -> None:
    with op.batch_alter_table("notification_settings") as batch:
        batch.drop_column("template_language")
        batch.drop_column("template_name")
