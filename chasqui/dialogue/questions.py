"""The bot's own question, remembered: one place records it, one place reads a short answer to it.

When the bot asks something ("¿qué talla?", "¿cuántos quieres?", "¿te lo separo?"), ``ask`` keeps
the question in the conversation memory (``memory["asked"]``) with what it is about; the next
message or two may answer it with a few words ("en 40", "3", "ya", "dale", "sepáramelo"), which
``pending`` hands back while it is fresh. Pickup/delivery, the zone, the address and the payment
method are checkout questions kept in ``memory["awaiting"]`` by the engine's checkout.

Kinds: ``variant`` (which option of a product: ``product``, ``options`` chosen so far, ``quantity``)
and ``offer`` (a product or variant ``sku`` offered: a yes, an add verb or a count takes it).
"""

from __future__ import annotations

from typing import Any

from chasqui.dialogue.cues import has_cue

KEY = "asked"
FRESH_TURNS = 2  # a question is still open this many customer turns after it was asked


def ask(memory: dict, kind: str, **about: Any) -> None:
    """Remember the question the bot is asking in this turn (it replaces any earlier one)."""
    memory[KEY] = {"kind": kind, "turn": int(memory.get("turn", 0)), **about}


def pending(memory: dict, kind: str | None = None) -> dict | None:
    """The bot's open question (of ``kind``), asked in one of the last ``FRESH_TURNS`` turns."""
    asked = memory.get(KEY)
    if not isinstance(asked, dict):
        return None
    if int(memory.get("turn", 0)) - int(asked.get("turn", 0)) > FRESH_TURNS:
        return None
    return asked if kind is None or asked.get("kind") == kind else None


def forget(memory: dict) -> None:
    memory.pop(KEY, None)


def short_yes(folded: str, words_max: int = 4) -> bool:
    """ "ya", "dale", "sí porfa", "sepáramelo", "ya agrégalo": a short yes to an offer (never a "no" or
    a question)."""
    words = folded.split()
    if not words or len(words) > words_max or has_cue(folded, "no") or has_cue(folded, "question"):
        return False
    return has_cue(folded, "yes") or has_cue(folded, "accept") or has_cue(folded, "add_verbs") or has_cue(
        folded, "take_it")


def bare_count(folded: str) -> int | None:
    """ "3", "dame 2", "unos 3 nomás": a count alone answering "¿cuántos?"."""
    from chasqui.nlu.numbers import parse_quantities

    words = folded.split()
    if not words or len(words) > 5:
        return None
    found = [q for q in parse_quantities(words) if not q.article]
    return found[0].value if len(found) == 1 else None
