"""Cleaning a webhook body before anything of it reaches the database.

* ``too_deep(raw)``: the body nests arrays/objects deeper than ``MAX_DEPTH`` (checked on the raw
  bytes without recursion, before ``json.loads`` could hit Python's recursion limit). Meta's
  bodies nest about 8 levels.
* ``clean(value)``: every string (keys too) with lone UTF-16 surrogates replaced by U+FFFD and NUL
  characters removed: SQLite's and PostgreSQL's drivers refuse the first, PostgreSQL's text and
  JSONB the second.
* ``clip(text, size)``: a string cut to a column's length.
"""

from __future__ import annotations

import re
from typing import Any

MAX_DEPTH = 32
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when ``raw`` opens more than ``limit`` nested arrays/objects at some point."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def clean_text(text: str) -> str:
    """``text`` without NUL characters and with lone surrogates replaced by U+FFFD."""
    if text.isascii():
        return text.replace("\x00", "") if "\x00" in text else text
    return _SURROGATE.sub("\ufffd", text).replace("\x00", "")


def clean(value: Any) -> Any:
    """``value`` (parsed JSON, depth already capped) with every string cleaned, keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(key)): clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean(item) for item in value]
    return value


def clip(text: str | None, size: int) -> str | None:
    """``text`` cut to ``size`` characters (None stays None)."""
    return text[:size] if text is not None else None
