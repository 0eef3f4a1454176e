"""Language cues (Spanish words and phrases) loaded from ``cues.es.yaml``."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

CUES_FILE = Path(__file__).with_name("cues.es.yaml")


@lru_cache(maxsize=1)
def cues() -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load(CUES_FILE.read_text(encoding="utf-8"))
    return {key: tuple(values) for key, values in data.items()}


def has_cue(normalized: str, name: str) -> bool:
    """True when one of the cue phrases appears as whole words in the normalized text."""
    padded = f" {normalized} "
    return any(f" {phrase} " in padded for phrase in cues().get(name, ()))


_PUNCT = re.compile(r"[^\w\s]")


def fold(text: str) -> str:
    """Lowercase, no accents, no punctuation, single spaces: the form cues are matched on."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(_PUNCT.sub(" ", plain).replace("_", " ").split())


@lru_cache(maxsize=32)
def _stem_pattern(name: str) -> re.Pattern[str] | None:
    stems = cues().get(name, ())
    return re.compile(r"\b(?:" + "|".join(stems) + r")\b") if stems else None


def has_stem(folded: str, name: str) -> bool:
    """True when a word of the folded text matches one of the cue's stem patterns."""
    pattern = _stem_pattern(name)
    return bool(pattern and pattern.search(folded))


def is_pickup(folded: str) -> bool:
    return has_cue(folded, "pickup") or has_stem(folded, "pickup_stems")


def is_delivery(folded: str) -> bool:
    return has_cue(folded, "delivery")


def asks_hours(folded: str) -> bool:
    return has_stem(folded, "hours_stems")


def first_name(full_name: str | None) -> str:
    """The name to greet with: the first word that is not a title ("Ing. Salas" -> "Salas")."""
    titles = set(cues().get("titles", ()))
    for word in (full_name or "").split():
        if fold(word) not in titles:
            return word.strip(".,")
    return ""
