"""The packaged default reply templates (``chasqui/dialogue/templates.es.yaml``), read once.

Both the tenant import (``io``: defaults merged under a tenant file's ``reply_templates``) and the
snapshot (``snapshot``: defaults for every key a tenant has not stored, e.g. a tenant imported
before the key existed) need them; this module imports neither, so there is no import circle.
The file is parsed once per (path, modification time) and every caller gets its own copy.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

DEFAULT_TEMPLATES_PATH = Path(__file__).resolve().parent.parent / "dialogue" / "templates.es.yaml"

__all__ = ["DEFAULT_TEMPLATES_PATH", "default_templates"]


def default_templates(path: Path | None = None) -> dict[str, list[str]]:
    """The default reply templates ``{key: [variant, ...]}``; empty when the file is absent."""
    path = Path(path or DEFAULT_TEMPLATES_PATH)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return {}
    return {key: list(variants) for key, variants in _parsed(str(path), mtime).items()}


@functools.lru_cache(maxsize=8)
def _parsed(path: str, mtime_ns: int) -> dict[str, tuple[str, ...]]:
    del mtime_ns  # part of the cache key only: an edited file is read again
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of template keys to lists of variants")
    result: dict[str, tuple[str, ...]] = {}
    for key, variants in data.items():
        items = [variants] if isinstance(variants, str) else variants
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise ValueError(f"{path}: {key}: expected a list of texts")
        result[str(key)] = tuple(items)
    return result
