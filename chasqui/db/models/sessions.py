"""Server-side panel sessions (OWASP ASVS 3.3): the browser's cookie holds only a random id.

Only the SHA-256 of that id is stored, so a copy of the database does not let anyone log in. A
session ends when revoked (logout, password change, user disabled), after ``idle`` without a
request, or ``absolute`` after its creation (the timeouts are settings, checked on every request).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from chasqui.db.base import MYSQL_TABLE_OPTIONS, Base, created_at
from chasqui.db.types import JSONType, UTCDateTime


class PanelSession(Base):
    """One logged-in browser. ``data`` holds the session's CSRF token, current tenant and flash."""

    __tablename__ = "panel_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    ip: Mapped[str] = mapped_column(String(45), default="", nullable=False)
    user_agent: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    created_at: Mapped[datetime] = created_at()
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (MYSQL_TABLE_OPTIONS,)
