"""The intent catalog, labelled training samples, and trained model versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Double, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from chasqui.db.base import MYSQL_TABLE_OPTIONS, Base, check_in, created_at, tenant_fk
from chasqui.db.types import BlobType, JSONType

SAMPLE_SOURCES = ("seed", "ml", "llm", "human")
MODEL_STATUSES = ("active", "candidate", "rejected")


class Intent(Base):
    __tablename__ = "intents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)


class TrainingSample(Base):
    """A labelled example. ``tenant_id`` NULL: a global sample (the packaged seed data).

    A tenant's sample trains only that tenant's model, unless platform staff confirmed it
    (``platform_confirmed``): then it also trains the platform model every tenant falls back to.
    """

    __tablename__ = "training_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = tenant_fk(nullable=True)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    intent: Mapped[str] = mapped_column(String(64), nullable=False)
    source: Mapped[str] = mapped_column(String(8), nullable=False)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    platform_confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    ml_intent: Mapped[str | None] = mapped_column(String(64))  # what the model said at the time
    ml_confidence: Mapped[float | None] = mapped_column(Double)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        Index("ix_training_samples_intent", "intent"),
        check_in("source", SAMPLE_SOURCES),
        MYSQL_TABLE_OPTIONS,
    )


class ModelVersion(Base):
    """A trained intent model. ``tenant_id`` NULL: the platform model (seed data and samples platform
    staff confirmed); otherwise that tenant's own model, used for its messages only."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = tenant_fk(nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="candidate", nullable=False)
    artifact: Mapped[bytes] = mapped_column(BlobType, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    sample_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    duration_s: Mapped[float] = mapped_column(Double, default=0.0, nullable=False)
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        UniqueConstraint("tenant_id", "version"),
        Index("ix_model_versions_tenant_status", "tenant_id", "status"),
        check_in("status", MODEL_STATUSES),
        MYSQL_TABLE_OPTIONS,
    )
