"""``X-Hub-Signature-256``: HMAC-SHA256 of the raw request body with the app secret.

Meta sends ``sha256=<hex digest>``. The check runs on the raw bytes, before any parsing or
re-serialisation, and compares in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(raw: bytes, secret: str) -> str:
    """The header value Meta would send for ``raw`` (used by tests and the fake Graph API)."""
    return PREFIX + hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()


def verify(raw: bytes, header: str | None, secret: str) -> bool:
    """True when ``header`` is ``sha256=`` + the HMAC-SHA256 of ``raw`` keyed with ``secret``."""
    if not header or not secret:
        return False
    header = header.strip()
    if header[: len(PREFIX)].lower() != PREFIX:
        return False
    received = header[len(PREFIX) :].strip().lower()
    expected = hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(received.encode("ascii", "replace"), expected.encode("ascii"))
