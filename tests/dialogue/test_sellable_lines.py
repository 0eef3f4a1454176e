"""A product with variants never enters the cart or an order without its variant: the bot asks which
and keeps the count."""

from __future__ import annotations

from chasqui.dialogue.engine import Engine, Turn
from chasqui.dialogue.state import ConversationState, PlaceOrder
from chasqui.nlu.analyzer import analyze
from dialogue.test_variants import NOW, shop  # noqa: F401  (the shoe shop's engine fixture)


def _turn(engine: Engine, text: str, cart: dict | None = None) -> Turn:
    state = ConversationState(customer_phone="51955000901", cart=dict(cart or {}))
    return Turn(engine, state, NOW, analyze(text, engine.brain.matcher, engine.brain.model))


def test_a_bare_product_with_variants_is_asked_about_never_added(shop: Engine) -> None:  # noqa: F811
    turn = _turn(shop, "ya dame 2 de esa")
    shop._add_items(turn, [("JEA-CLA", 2)])
    assert turn.cart == {}
    assert "talla" in " ".join(turn.decision.replies).lower()
    assert turn.memory["asked"]["quantity"] == 2 and turn.memory["asked"]["product"] == "JEA-CLA"


def test_no_order_is_placed_with_a_line_lacking_its_variant(shop: Engine) -> None:  # noqa: F811
    state = ConversationState(customer_phone="51955000902", cart={"JEA-CLA": 2})
    decision = shop.handle_customer("confirmo, recojo en tienda y pago en efectivo", state, NOW)
    assert not [c for c in decision.order_commands if isinstance(c, PlaceOrder)]
    assert "JEA-CLA" not in decision.cart
    assert "talla" in " ".join(decision.replies).lower()
