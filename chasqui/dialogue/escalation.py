"""Frustration signals that hand a conversation to a person."""

from __future__ import annotations

from rapidfuzz import fuzz

from chasqui.dialogue.cues import has_cue

SHOUT_MIN_LETTERS = 12
SHOUT_UPPER_RATIO = 0.8


def is_shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if len(letters) < SHOUT_MIN_LETTERS:
        return False
    return sum(c.isupper() for c in letters) / len(letters) >= SHOUT_UPPER_RATIO


def frustration_reason(text: str, folded: str, memory: dict) -> str | None:
    """Why this message shows a frustrated customer, or None.

    Signals: insults or strong complaint words, shouting with exclamation marks, a second
    complaint in the conversation, or repeating a question the bot could not answer.
    """
    if has_cue(folded, "insults"):
        return "cliente molesto"
    if is_shouting(text) and ("!" in text or "?" in text):
        return "cliente molesto (mayúsculas)"
    if int(memory.get("complaints", 0)) >= 2:
        return "reclamo repetido"
    last_unanswered = memory.get("last_unanswered")
    if last_unanswered and int(memory.get("fallback_streak", 0)) >= 1 and _same(folded, last_unanswered):
        return "pregunta sin respuesta repetida"
    return None


def _same(a: str, b: str) -> bool:
    return fuzz.ratio(a, b) >= 85
