"""A customer's question never changes the cart.

A message is a question when it has a question mark, starts with an interrogative word ("¿puedo…",
"hay…", "cuánto…") or asks "y si…". Such a message adds or changes no item unless it also orders
something explicitly: an order verb ("dame 2, ¿la carne es de res?") or a polite request in question
form ("¿me das 2?", "¿me lo separas?"). An answer to the bot's own question ("¿en 40?") is no
question about the shop. The words are in cues.es.yaml (``order_request``, ``only_asking``).
"""

from __future__ import annotations

from chasqui.dialogue import questions
from chasqui.dialogue.cues import cues, has_cue
from chasqui.dialogue.shop_answers import is_question

CART_CHANGES = frozenset({"agregar_producto", "modificar_cantidad"})


def orders(folded: str) -> bool:
    """The message itself asks for items: an order verb or a polite request ("me das", "sepáramelo")."""
    padded = f" {folded} "
    for phrase in cues().get("only_asking", ()):  # "quisiera saber", "quiero preguntar": no order
        padded = padded.replace(f" {phrase} ", " ")
    folded = padded.strip()
    return any(has_cue(folded, c) for c in ("order_request", "add_verbs", "take_it"))


def asks(text: str, folded: str) -> bool:
    """The message is a question (by its mark, its first word, or "y si…")."""
    words = folded.split()
    return is_question(text, folded) or words[:2] == ["y", "si"]


def keeps_cart(turn, intent: str) -> bool:
    """True when ``intent`` would change the cart but the message only asks (the question is answered
    instead)."""
    if intent not in CART_CHANGES or questions.pending(turn.memory) is not None:
        return False
    return asks(turn.analysis.text, turn.folded) and not orders(turn.folded)


def cancels(turn, intent: str) -> bool:
    """A cancel command (not a question) about an order awaiting payment or the cart: it is carried out
    even when the shop has a cancellation policy to quote."""
    from chasqui.dialogue.state import PENDING_PAYMENT

    if asks(turn.analysis.text, turn.folded) or has_cue(turn.folded, "no"):
        return False
    order = turn.state.order
    if not (turn.cart or (order is not None and order.status == PENDING_PAYMENT)):
        return False
    return intent == "cancelar_pedido" or has_cue(turn.folded, "cancel_command")
