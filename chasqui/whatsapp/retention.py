"""Retention of raw webhook bodies: ``webhook_events`` rows older than
``Settings.webhook_retention_days`` are deleted, in batches (the worker every ``PURGE_EVERY_S``,
``chasqui purge-webhooks`` by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from chasqui.db.models import WebhookEvent

if TYPE_CHECKING:
    from chasqui.runtime import Runtime

PURGE_EVERY_S = 3600.0
BATCH = 1000


def purge_webhook_events(runtime: Runtime, now: datetime | None = None, days: int | None = None) -> int:
    """Delete the webhook bodies received before ``now - days``; returns how many were deleted."""
    days = runtime.settings.webhook_retention_days if days is None else days
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    deleted = 0
    while True:
        with runtime.session() as session:
            ids = list(
                session.scalars(
                    select(WebhookEvent.id).where(WebhookEvent.received_at < cutoff).order_by(WebhookEvent.id)
                    .limit(BATCH)
                )
            )
            if not ids:
                return deleted
            session.execute(delete(WebhookEvent).where(WebhookEvent.id.in_(ids)))
        deleted += len(ids)
