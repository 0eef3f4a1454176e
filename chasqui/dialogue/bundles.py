"""A bundle promotion (a combo, kit or pack at a fixed price) named by the customer.

"el combo chilcanero", "quiero el kit de colores", "dame el combo" (the shop has one combo) or "ya
quiero esa promo" right after the promotions were listed: the bundle is added as what it contains, one
of each part (pricing.py prices the parts at the promotion's price). A product of the catalog that is
itself a combo ("Combo familiar" as a product) stays a product: the bundle never takes its place.

Pure: the tenant snapshot, the folded message, the products it mentions and the dialogue memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from chasqui.dialogue.cues import cues, fold, has_cue
from chasqui.dialogue.pricing import active_promotions
from chasqui.domain import Promotion, TenantSnapshot

_MIN_WORD = 3  # words shorter than this ("de", "la") never name a bundle


def bundles(tenant: TenantSnapshot, today: date) -> list[Promotion]:
    return [p for p in active_promotions(tenant, today) if p.rule.get("type") == "bundle"]


def _name_words(promo: Promotion) -> set[str]:
    """The words of a bundle's name that may name it, its pack words ("combo", "kit") out."""
    pack = {fold(w) for w in cues().get("bundle", ())}
    return {w for w in fold(promo.name).split() if len(w) >= _MIN_WORD and w not in pack}


def named(tenant: TenantSnapshot, folded: str, today: date, *, mentioned: Sequence[str] = (),
          promotions_listed: bool = False) -> Promotion | None:
    """The bundle the message names, or None.

    Named when the message says a pack word ("combo", "kit", "promo") and a word of the bundle's own
    name, or two words of its name; a pack word alone, in a message naming no product, names the shop's
    only bundle ("el combo", "el kit"; "esa promo" only right after the promotions were listed).
    ``mentioned``: the SKUs of the products the message mentions; one that is itself a pack (its name
    has a pack word) is the product asked for.
    """
    offered = bundles(tenant, today)
    if not offered or _names_packed_product(tenant, mentioned):
        return None
    words = {w for w in folded.split() if len(w) >= _MIN_WORD}
    pack_word = has_cue(folded, "bundle")
    scored = sorted(((len(words & _name_words(p)), p) for p in offered), key=lambda pair: -pair[0])
    best, promo = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0
    if best > runner_up and (best >= 2 or (pack_word and best >= 1)):
        return promo
    if (pack_word and best == 0 and len(offered) == 1 and not mentioned
            and (promotions_listed or has_cue(folded, "bundle_only"))):
        return offered[0]  # "dame el combo" when there is one; "ya quiero esa promo" after the listing
    return None


def _names_packed_product(tenant: TenantSnapshot, mentioned: Sequence[str]) -> bool:
    pack = {fold(w) for w in cues().get("bundle_only", ())}
    for sku in mentioned:
        product = tenant.product_of(sku)
        if product is not None and pack & set(fold(product.name).split()):
            return True
    return False


def parts(tenant: TenantSnapshot, promo: Promotion) -> list[tuple[str, int]]:
    """What a bundle contains, as cart lines: one of each part the catalog sells (a product or a
    variant SKU), in the promotion's order."""
    counts: dict[str, int] = {}
    for sku in (str(s) for s in promo.rule.get("skus", [])):
        if tenant.sellable(sku) is not None:
            counts[sku] = counts.get(sku, 0) + 1
    return list(counts.items())
