"""Only sellable SKUs enter the cart or an order: a product with variants goes in as one of its variants.

A product with variants asked for without one ("ya dame 3 de esa", a combo's drink with no flavour)
is never put in the cart as the bare product: the bot asks which (variants.py's question, the count
kept for the short answer), or takes the only variant in stock. Before an order is read back or
placed, a bare line that got into the cart anyway is taken out and asked about the same way, and a
product the bot has just asked "which one?" about, left unanswered while the customer went on to the
checkout ("ya inca kola entonces" → "¿qué tamaño?" → "delivery a la perla, pago en efectivo"), is
asked again: the read-back never leaves out what the customer asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chasqui.dialogue import questions, variants

if TYPE_CHECKING:
    from chasqui.dialogue.engine import Engine, Turn
    from chasqui.domain import Quantity, TenantSnapshot


def is_bare(tenant: TenantSnapshot, sku: str) -> bool:
    """The SKU names a product that is sold only as one of its variants."""
    line = tenant.sellable(sku)
    return line is not None and line.variant is None and bool(line.product.variants)


def variant_for(engine: Engine, turn: Turn, sku: str, quantity: Quantity) -> str | None:
    """The sellable SKU to put in the cart for ``sku``: itself, the only variant in stock, or None when
    the bot asked which variant (or said it is sold out)."""
    if not is_bare(engine.tenant, sku):
        return sku
    product = engine.tenant.sellable(sku).product  # type: ignore[union-attr]
    count = int(quantity) if quantity == int(quantity) else None
    outcome = variants.resolve(engine, turn, variants.Request(product, quantity=count), adding=True)
    return outcome.sku


def ask_bare_lines(engine: Engine, turn: Turn) -> bool:
    """Before an order: a bare line in the cart is taken out and its variant asked (True: asked)."""
    bare = [sku for sku in turn.cart if is_bare(engine.tenant, sku)]
    if not bare:
        return False
    quantity = turn.cart.pop(bare[0])
    chosen = variant_for(engine, turn, bare[0], quantity)
    if chosen is not None:  # only one variant in stock: that one, same count
        turn.cart[chosen] = turn.cart.get(chosen, 0) + quantity
        return ask_bare_lines(engine, turn)
    return True


def ask_open_variant(engine: Engine, turn: Turn) -> bool:
    """Before a read-back: the bot's open "which one?" question about a product with no line in the
    cart is asked once more (True: asked); left unanswered again, the read-back goes on without it."""
    asked = questions.pending(turn.memory, "variant")
    product = engine.tenant.product(str(asked.get("product") or "")) if asked else None
    if asked is None or asked.get("again") or product is None or any(
            (line := engine.tenant.sellable(sku)) is not None and line.product.sku == product.sku for sku in turn.cart):
        return False
    quantity = asked.get("quantity")
    request = variants.Request(product, options=dict(asked.get("options") or {}),
                               quantity=int(quantity) if quantity else None)
    if variants.resolve(engine, turn, request, adding=True).sku is not None:
        return False  # settled meanwhile (one variant left): never added without the customer
    again = questions.pending(turn.memory, "variant")
    if again is not None:
        again["again"] = True
    return True
