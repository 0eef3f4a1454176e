"""LLM usage: tokens and estimated cost per tenant, per day and per model."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chasqui.db.base import MYSQL_TABLE_OPTIONS, Base, tenant_fk, updated_at


class LlmUsage(Base):
    """One row per (tenant, UTC day, model); counters are added to by every LLM call."""

    __tablename__ = "llm_usage"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    day: Mapped[date] = mapped_column(Date, nullable=False)
    model: Mapped[str] = mapped_column(String(100), nullable=False)
    requests: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    failures: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 6, asdecimal=True), default=Decimal("0"), nullable=False)
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (UniqueConstraint("tenant_id", "day", "model"), MYSQL_TABLE_OPTIONS)
