"""API tokens: ``chq_`` + 43 random URL-safe characters; only the SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chasqui.db.models import ApiToken

TOKEN_PREFIX = "chq_"
LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenOwner:
    token_id: int
    tenant_id: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, tenant_id: int, name: str, user_id: int | None) -> tuple[ApiToken, str]:
    """A new token row and the token itself (shown once, never stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        tenant_id=tenant_id,
        name=name,
        token_hash=hash_token(token),
        prefix=token[:12],
        created_by_user_id=user_id,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return row, token


def token_owner(session: Session, token: str) -> TokenOwner | None:
    """The tenant of an active token (None: unknown or revoked); records when it was last used."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return None
    now = datetime.now(UTC)
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_GRANULARITY:
        row.last_used_at = now
    return TokenOwner(row.id, row.tenant_id)
