"""A message that only names a payment method ("yape", "con plin nomás", "efectivo porfa").

Said with a cart, it is the method of the order to come (most often the answer to "¿con qué vas a
pagar?"), never a problem with that method: "no tengo yape" or "el yape no me funciona" carry words
of their own. Pure: no I/O.
"""

from __future__ import annotations

from chasqui.dialogue.cues import cues, fold


def bare(text: str, matcher) -> bool:
    """True when every word of the message names a payment method or only leads to one ("contra
    entrega" names one by its words together)."""
    if matcher is None or "?" in text or "¿" in text:
        return False
    words = fold(text).split()
    fillers = set(cues().get("payment_fillers", ()))
    content = [w for w in words if w not in fillers]
    if len(content) > 3 or not matcher.extract(" ".join(words)).payment_methods:
        return False
    return all(matcher.extract(w).payment_methods for w in content)
