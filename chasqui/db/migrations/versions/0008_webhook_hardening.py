"""Webhook and media hardening: the verify token encrypted at rest, webhook rows purged by age.

* ``tenants.verify_token`` (plain text) becomes ``verify_token_encrypted`` (Fernet, like the other
  WhatsApp secrets) plus ``verify_token_hash`` (keyed HMAC, indexed) for the handshake's lookup.
  Existing rows are re-encrypted with the process secret key; the downgrade decrypts them back.
* ``webhook_events.received_at`` gets an index: the retention purge deletes by age.

Runs on SQLite, PostgreSQL 15+ and MySQL 8 / MariaDB 10.11+.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 18:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_tenants = sa.table(
    "tenants",
    sa.column("id", sa.Integer),
    sa.column("verify_token", sa.String(255)),
    sa.column("verify_token_encrypted", sa.Text),
    sa.column("verify_token_hash", sa.String(64)),
)


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("verify_token_encrypted", sa.Text(), nullable=True))
        batch.add_column(sa.Column("verify_token_hash", sa.String(length=64), nullable=True))
    _encrypt_existing()
    with op.batch_alter_table("tenants") as batch:
        batch.drop_index("ix_tenants_verify_token")
        batch.drop_column("verify_token")
        batch.create_index("ix_tenants_verify_token_hash", ["verify_token_hash"], unique=False)
    op.create_index("ix_webhook_events_received_at", "webhook_events", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_webhook_events_received_at", table_name="webhook_events")
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("verify_token", sa.String(length=255), nullable=True))
    _decrypt_existing()
    with op.batch_alter_table("tenants") as batch:
        batch.drop_index("ix_tenants_verify_token_hash")
        batch.drop_column("verify_token_hash")
        batch.drop_column("verify_token_encrypted")
        batch.create_index("ix_tenants_verify_token", ["verify_token"], unique=False)


def _encrypt_existing() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_tenants.c.id, _tenants.c.verify_token).where(_tenants.c.verify_token.is_not(None))
    ).all()
    if not rows:
        return
    from chasqui.crypto import encrypt, keyed_hash  # needs the secret key only when rows exist

    for tenant_id, token in rows:
        connection.execute(
            _tenants.update()
            .where(_tenants.c.id == tenant_id)
            .values(verify_token_encrypted=encrypt(token), verify_token_hash=keyed_hash(token))
        )


def _decrypt_existing() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_tenants.c.id, _tenants.c.verify_token_encrypted).where(
            _tenants.c.verify_token_encrypted.is_not(None)
        )
    ).all()
    if not rows:
        return
    from chasqui.crypto import decrypt

    for tenant_id, encrypted in rows:
        connection.execute(
            _tenants.update().where(_tenants.c.id == tenant_id).values(verify_token=decrypt(encrypted)[:255])
        )
