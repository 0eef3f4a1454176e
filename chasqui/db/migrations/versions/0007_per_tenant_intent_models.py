"""Per-tenant intent models: samples confirmed by platform staff are marked, and model versions
are looked up by (tenant, status).

``training_samples.platform_confirmed``: a platform staff member (superadmin, CLI) confirmed the
sample, so it may train the platform model every tenant falls back to; samples confirmed by a
tenant only ever train that tenant's own model (``model_versions.tenant_id``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 18:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("training_samples") as batch:
        batch.add_column(
            sa.Column("platform_confirmed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index("ix_model_versions_tenant_status", "model_versions", ["tenant_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_model_versions_tenant_status", table_name="model_versions")
    with op.batch_alter_table("training_samples") as batch:
        batch.drop_column("platform_confirmed")
