"""Platform-wide settings (key/value). Secret values are stored encrypted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chasqui.db.base import Base, updated_at


class PlatformSetting(Base):
    """Use ``chasqui.db.platform_settings`` to read and write: it validates and encrypts."""

    __tablename__ = "platform_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    is_secret: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    updated_at: Mapped[datetime] = updated_at()
