"""Encryption of secrets stored in the database (WhatsApp tokens, the LLM API key).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with a key derived from the
process secret key by HKDF-SHA256. Changing ``CHASQUI_SECRET_KEY`` makes stored secrets
unreadable: ``decrypt`` then raises ``DecryptionError`` with a message saying so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_SALT = b"chasqui/db-secrets"
_INFO = b"chasqui fernet key v1"


class DecryptionError(ValueError):
    """A stored secret cannot be decrypted (wrong secret key or damaged value)."""


@lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    if not secret_key:
        raise ValueError("the secret key is empty")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO)
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(secret_key.encode("utf-8"))))


def _key(secret_key: str | None) -> str:
    if secret_key is not None:
        return secret_key
    from chasqui.config import get_settings

    return get_settings().secret()


def encrypt(plaintext: str, secret_key: str | None = None) -> str:
    """Encrypt ``plaintext``; the result is ASCII text. ``secret_key`` defaults to the settings'."""
    return _fernet(_key(secret_key)).encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str, secret_key: str | None = None) -> str:
    """Decrypt a value made by ``encrypt`` with the same secret key."""
    try:
        return _fernet(_key(secret_key)).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, ValueError) as exc:
        raise DecryptionError(
            "cannot decrypt a stored secret: it was encrypted with another secret key "
            "(CHASQUI_SECRET_KEY or data/secret_key changed) or the value is damaged"
        ) from exc


_HASH_INFO = b"chasqui lookup hash v1"


@lru_cache(maxsize=8)
def _hash_key(secret_key: str) -> bytes:
    if not secret_key:
        raise ValueError("the secret key is empty")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_HASH_INFO)
    return hkdf.derive(secret_key.encode("utf-8"))


def keyed_hash(value: str, secret_key: str | None = None) -> str:
    """HMAC-SHA256 of ``value`` (hex) keyed from the secret key: an index for looking a secret up
    without storing it readable (e.g. the webhook verify token)."""
    return hmac.new(_hash_key(_key(secret_key)), value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()
