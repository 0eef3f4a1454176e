"""Platform settings stored in the database (``chasqui settings get/set``).

Values are text in the table; ``get_typed`` parses them. Secret keys (``llm_api_key``) are
encrypted at rest and shown masked unless asked otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chasqui import crypto
from chasqui.db.models import PlatformSetting

if TYPE_CHECKING:
    from chasqui.config import Settings

MASK = "********"


class SettingError(ValueError):
    """An unknown key or an invalid value; the message is one line for the user."""


def _float_between(low: float, high: float) -> Callable[[str], Any]:
    def parse(text: str) -> float:
        try:
            value = float(Decimal(text.strip()))
        except (InvalidOperation, ValueError):
            raise SettingError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise SettingError(f"must be between {low:g} and {high:g}")
        return value

    return parse


def _positive_int(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise SettingError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise SettingError("must be 1 or more")
    return value


def _text(text: str) -> str:
    return text.strip()


@dataclass(frozen=True)
class SettingSpec:
    parse: Callable[[str], Any]
    description: str
    secret: bool = False
    default: str | None = None


SETTINGS: dict[str, SettingSpec] = {
    "llm_model": SettingSpec(_text, "LLM model name", default="gpt-4o-mini"),
    "llm_temperature": SettingSpec(_float_between(0.0, 2.0), "LLM sampling temperature", default="0.3"),
    "llm_max_tokens": SettingSpec(_positive_int, "most tokens in one LLM answer", default="300"),
    "llm_api_key": SettingSpec(_text, "API key of the LLM endpoint (stored encrypted)", secret=True),
    "llm_base_url": SettingSpec(_text, "base URL of an OpenAI-compatible endpoint"),
    "llm_timeout_seconds": SettingSpec(_float_between(0.5, 120.0), "seconds to wait for the LLM", default="8"),
    "llm_max_reply_chars": SettingSpec(_positive_int, "most characters of one LLM reply", default="400"),
    "llm_max_reply_sentences": SettingSpec(_positive_int, "most sentences of one LLM reply", default="3"),
    "llm_price_input_per_mtok": SettingSpec(
        _float_between(0.0, 1000.0), "USD per million prompt tokens (unset: built-in table)"
    ),
    "llm_price_output_per_mtok": SettingSpec(
        _float_between(0.0, 1000.0), "USD per million completion tokens (unset: built-in table)"
    ),
    "ml_confidence_threshold": SettingSpec(
        _float_between(0.0, 1.0), "default ML confidence to act without the LLM", default="0.80"
    ),
    "ml_retrain_every": SettingSpec(_positive_int, "retrain after this many new samples", default="50"),
}

PLATFORM_DEFAULTS: dict[str, str] = {k: s.default for k, s in SETTINGS.items() if s.default is not None}


def _spec(key: str) -> SettingSpec:
    try:
        return SETTINGS[key]
    except KeyError:
        known = ", ".join(sorted(SETTINGS))
        raise SettingError(f"unknown setting {key!r} (known: {known})") from None


def set_setting(session: Session, key: str, value: str, secret_key: str | None = None) -> None:
    """Validate and store one setting (encrypted when secret). Raises ``SettingError``."""
    spec = _spec(key)
    try:
        spec.parse(value)
    except SettingError as exc:
        raise SettingError(f"{key}: {exc}") from None
    value = value.strip()
    stored = crypto.encrypt(value, secret_key) if spec.secret else value
    row = session.get(PlatformSetting, key)
    if row is None:
        session.add(PlatformSetting(key=key, value=stored, is_secret=spec.secret))
    else:
        row.value, row.is_secret = stored, spec.secret
    session.flush()


def get_setting(session: Session, key: str, secret_key: str | None = None) -> str | None:
    """The stored value as text (decrypted), or None when unset."""
    _spec(key)
    row = session.get(PlatformSetting, key)
    if row is None:
        return None
    return crypto.decrypt(row.value, secret_key) if row.is_secret else row.value


def get_typed(session: Session, key: str, secret_key: str | None = None) -> Any:
    """The value parsed to its type (float, int, str), the default when unset, or None."""
    spec = _spec(key)
    text = get_setting(session, key, secret_key)
    if text is None:
        text = spec.default
    return None if text is None else spec.parse(text)


def all_settings(session: Session, reveal: bool = False, secret_key: str | None = None) -> dict[str, str]:
    """Every stored setting, key → text; secrets masked unless ``reveal``."""
    result: dict[str, str] = {}
    for row in session.scalars(select(PlatformSetting).order_by(PlatformSetting.key)):
        if row.is_secret:
            result[row.key] = crypto.decrypt(row.value, secret_key) if reveal else MASK
        else:
            result[row.key] = row.value
    return result


def seed_platform_defaults(session: Session, settings: Settings | None = None) -> int:
    """Store the defaults that are not set yet (``llm_model`` from the settings); returns the count."""
    defaults = dict(PLATFORM_DEFAULTS)
    if settings is not None:
        defaults["llm_model"] = settings.llm_model
    existing = set(session.scalars(select(PlatformSetting.key)))
    added = 0
    for key, value in defaults.items():
        if key not in existing:
            session.add(PlatformSetting(key=key, value=value, is_secret=False))
            added += 1
    session.flush()
    return added
