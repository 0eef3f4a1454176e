"""Human review of training samples from the CLI (platform staff): list the unconfirmed ones,
confirm or correct a label. A sample confirmed here is ``platform_confirmed``: it also trains the
platform model (the panel's owners confirm only for their own tenant's model)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chasqui.db.models import Tenant, TrainingSample
from chasqui.nlu.intents import INTENTS


class ReviewError(ValueError):
    """An unknown sample or intent; the message is one line for the user."""


def _row(sample: TrainingSample, tenant: str | None) -> dict[str, Any]:
    return {
        "id": sample.id, "tenant": tenant, "source": sample.source, "text": sample.text, "intent": sample.intent,
        "confirmed": sample.confirmed, "ml_intent": sample.ml_intent, "ml_confidence": sample.ml_confidence,
        "created_at": sample.created_at.isoformat(timespec="seconds") if sample.created_at else None,
    }


def unconfirmed(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    rows = session.execute(
        select(TrainingSample, Tenant.slug)
        .outerjoin(Tenant, Tenant.id == TrainingSample.tenant_id)
        .where(TrainingSample.confirmed.is_(False))
        .order_by(TrainingSample.id.desc())
        .limit(limit)
    ).all()
    return [_row(sample, slug) for sample, slug in rows]


def confirm(session: Session, sample_id: int, intent: str | None = None) -> dict[str, Any]:
    """Mark the sample confirmed by platform staff; a different ``intent`` corrects it (its source
    becomes ``human``)."""
    sample = session.get(TrainingSample, sample_id)
    if sample is None:
        raise ReviewError(f"no training sample with id {sample_id}")
    if intent is not None:
        intent = intent.strip()
        if intent not in INTENTS:
            raise ReviewError(f"unknown intent {intent!r} (known: {', '.join(INTENTS)})")
        if intent != sample.intent:
            sample.intent, sample.source = intent, "human"
    sample.confirmed = sample.platform_confirmed = True
    session.flush()
    slug = session.scalar(select(Tenant.slug).where(Tenant.id == sample.tenant_id)) if sample.tenant_id else None
    return _row(sample, slug)
