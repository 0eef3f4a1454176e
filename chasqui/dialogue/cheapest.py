"""Descriptions by price: "¿cuál es el más barato?", "la más económica de las hamburguesas".

The customer asks for the cheapest of what is in view: the products or categories the message names,
else the products just listed, else the whole catalog. The answer names the cheapest sellable lines
(a variant when one variant alone is cheapest) with their prices, and remembers them as offered, so
"ese", "dame 3 de esa" or "ya" take it. Nothing here changes the cart.
"""

from __future__ import annotations

from chasqui.dialogue import questions
from chasqui.dialogue.composer import join_es
from chasqui.dialogue.cues import fold, has_cue
from chasqui.domain import Product, Sellable, TenantSnapshot


def asks_cheapest(folded: str) -> bool:
    return has_cue(folded, "cheapest")


def _sellables(product: Product) -> list[Sellable]:
    if not product.active:
        return []
    if not product.variants:
        return [Sellable(product, None, product.price)] if product.stock > 0 else []
    return [Sellable(product, v, v.price if v.price is not None else product.price)
            for v in product.variants if v.active and v.stock > 0]


def in_view(tenant: TenantSnapshot, product_skus: list[str], categories: list[str],
            recent: list[str]) -> list[Product]:
    """The products the question is about: named ones, named categories, else the recent list, else all."""
    named = [p for s in product_skus if (p := tenant.product_of(s))]
    folded = {fold(c) for c in categories}
    named += [p for p in tenant.products if folded and fold(p.category) in folded]
    if named:
        return list(dict.fromkeys(named))
    listed = [p for s in recent if (p := tenant.product_of(s))]
    if len(set(listed)) > 1:
        return list(dict.fromkeys(listed))
    return list(tenant.products)


def cheapest(products: list[Product]) -> list[Sellable]:
    """The cheapest sellable lines in stock: one variant when it alone is cheapest; the product when
    several of its variants tie (its options are still to choose)."""
    lines = [s for p in products for s in _sellables(p)]
    if not lines:
        return []
    low = min(s.price for s in lines)
    best = [s for s in lines if s.price == low]
    out: list[Sellable] = []
    for product in dict.fromkeys(s.product for s in best):
        mine = [s for s in best if s.product is product]
        out.append(mine[0] if len(mine) == 1 else Sellable(product, None, low))
    return out


def answer(engine, turn):
    """The ShopAnswer to "¿cuál es el más barato?" (None: the message asks something else)."""
    from chasqui.dialogue.shop_answers import ShopAnswer

    e = turn.entities
    if not asks_cheapest(turn.folded) or e.quantities or has_cue(turn.folded, "add_verbs"):
        return None
    skus = [s for m in e.products for s in (m.sku, *m.candidates)]
    recent = list(turn.memory.get("offered_skus") or turn.memory.get("last_skus") or [])
    best = cheapest(in_view(engine.tenant, skus, list(e.categories), recent))[:3]
    if not best:
        return None
    items = join_es([f"{s.name} ({turn.money(s.price)})" for s in best])
    key = "mas_barato" if len(best) == 1 else "mas_baratos"
    memory: dict = {"last_skus": [s.sku for s in best]}
    if len(best) == 1:
        memory["focus_sku"] = best[0].sku
        questions.ask(memory, "offer", sku=best[0].sku)
        memory["asked"]["turn"] = int(turn.memory.get("turn", 0))
    else:
        memory["offered_skus"] = [s.sku for s in best]
    return ShopAnswer("cheapest", ((key, {"items": items, "price": turn.money(best[0].price)}),), memory=memory)

