"""Token usage and estimated cost per tenant, per UTC day and per model (``llm_usage``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chasqui.db.models import LlmUsage
from chasqui.llm.client import Usage


def record_usage(session: Session, tenant_id: int, usages: Iterable[Usage], day: date) -> None:
    """Add the calls to the tenant's row of the day (created on first use), in the caller's transaction."""
    for usage in usages:
        row = session.scalar(select(LlmUsage).where(
            LlmUsage.tenant_id == tenant_id, LlmUsage.day == day, LlmUsage.model == usage.model[:100]
        ))
        if row is None:
            row = LlmUsage(tenant_id=tenant_id, day=day, model=usage.model[:100], requests=0, failures=0,
                           prompt_tokens=0, completion_tokens=0, cost_usd=Decimal(0))
            session.add(row)
        row.requests += 1
        row.failures += 0 if usage.ok else 1
        row.prompt_tokens += usage.prompt_tokens
        row.completion_tokens += usage.completion_tokens
        row.cost_usd = Decimal(row.cost_usd) + usage.cost_usd
        session.flush()


def usage_by_day(session: Session, tenant_id: int) -> list[LlmUsage]:
    return list(session.scalars(
        select(LlmUsage).where(LlmUsage.tenant_id == tenant_id).order_by(LlmUsage.day, LlmUsage.model)
    ))
