"""Process settings: environment variables with the ``CHASQUI_`` prefix, also read from ``.env``.

Everything about a business lives in the database; these settings only say where things are
(database, Redis, Graph API, LLM endpoint) and hold the secret key. Build them once at start-up
(``get_settings()``) and pass them in.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = "secret_key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CHASQUI_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite:///./data/chasqui.db"
    redis_url: str | None = None
    redis_queue: str = "chasqui:queue"  # arq queue name in distributed mode
    # Unset: generated once into ``<data_dir>/secret_key`` (mode 0600) and reused afterwards.
    secret_key: SecretStr | None = None
    data_dir: Path = Path("./data")
    graph_api_url: str = "https://graph.facebook.com"
    graph_api_version: str = "v21.0"
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"
    # The reverse proxies whose ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed (the
    # client IP for login limits, https for the Secure cookie and HSTS): comma-separated IPs or
    # networks, "*" for any (only when clients cannot reach the app directly). Also given to
    # uvicorn as ``forwarded_allow_ips``.
    forwarded_allow_ips: str = "127.0.0.1"
    # Panel sessions end after this long without a request, and this long after the login.
    session_idle_timeout_s: int = Field(default=30 * 60, ge=60)
    session_absolute_timeout_s: int = Field(default=12 * 3600, ge=300)
    # Raw webhook bodies (``webhook_events``) are deleted this many days after they arrived (the
    # worker purges hourly; ``chasqui purge-webhooks`` does it by hand).
    webhook_retention_days: int = Field(default=30, ge=1)
    # A request body must arrive within this many seconds (uploads: the longer one), with at most
    # ``body_idle_timeout_s`` between two chunks; otherwise 408 and the connection is closed.
    body_timeout_s: float = Field(default=30.0, gt=0)
    body_upload_timeout_s: float = Field(default=120.0, gt=0)
    body_idle_timeout_s: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _ensure_secret_key(self) -> Settings:
        if self.secret_key is None or not self.secret_key.get_secret_value():
            self.secret_key = SecretStr(load_or_create_secret_key(self.data_dir))
        return self

    def secret(self) -> str:
        """The secret key as plain text (never None after construction)."""
        assert self.secret_key is not None
        return self.secret_key.get_secret_value()


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) if missing; the folders created here are 0700."""
    path = Path(path).expanduser()
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for created in missing:
        os.chmod(created, 0o700)  # mkdir's mode is filtered by the umask


def create_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only (0600) if it does not exist yet."""
    make_private_dir(Path(path).expanduser().parent)
    try:
        os.close(os.open(Path(path).expanduser(), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return


def load_or_create_secret_key(data_dir: Path) -> str:
    """Read ``<data_dir>/secret_key``; create it (random, mode 0600) when it does not exist."""
    path = Path(data_dir) / SECRET_KEY_FILE
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
    make_private_dir(path.parent)
    key = secrets.token_urlsafe(48)
    # O_EXCL: when two processes race on first start, the loser reads the winner's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        existing = path.read_text(encoding="utf-8").strip()
        if existing:
            return existing
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    os.chmod(path, 0o600)
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built on first use. Tests call ``get_settings.cache_clear()``."""
    return Settings()
